"""SEMS, the SIP Express Media Server."""
