"""sms: SIP MESSAGE <-> GSM SMS gateway (SER modules/sms).

Sends MESSAGEs as SMS through GSM modems on serial ports and turns
received SMS into MESSAGEs.
"""

from stdlib_modules.exports import INT, R, STR, Module, fn, param

EXPORTS = Module(
    name="sms",
    doc="SMS gateway",
    unavailable="needs a GSM modem on a serial port",
    functions=(
        fn("sms_send_msg_to_net", 1, R, doc="send the MESSAGE as SMS via the named network"),
        fn("sms_send_msg", 0, R, doc="send the MESSAGE as SMS via the default network"),
    ),
    params=(
        param("modems", STR, None, doc="modem definitions: name [d=device;b=baud;p=pin;...]"),
        param("networks", STR, None, doc="network definitions: name[c=smsc;m=max]"),
        param("links", STR, None, doc="modem-to-network links: modem[net;...]"),
        param("default_net", STR, None, doc="network used by sms_send_msg"),
        param("max_sms_parts", INT, 4, doc="maximum parts of a long message"),
        param("domain", STR, None, doc="domain of generated SIP URIs"),
        param("use_contact", INT, 0, doc="add a Contact to generated MESSAGEs"),
        param("sms_report_type", INT, 0, doc="delivery report handling"),
    ),
)
