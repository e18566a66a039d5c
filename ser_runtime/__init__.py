"""SER's runtime: SIP messages, transports, workers, core actions, database layer, control interface."""
