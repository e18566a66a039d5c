"""libFuzzer target (atheris) for the SIP parser; run by test_fuzz.py in a child process.

Usage: python fuzz_target.py CORPUS_DIR [libFuzzer flags]
Any exception other than SipParseError escaping parse and the accessors is
reported by libFuzzer as a crash, with the input saved as an artifact.
"""

import sys

import atheris

with atheris.instrument_imports():
    from ser_runtime.sip import SipMessage, SipParseError
    from sip_exercise import read_everything


def test_one_input(data: bytes) -> None:
    try:
        msg = SipMessage.parse(data)
    except SipParseError:
        return
    read_everything(msg)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
