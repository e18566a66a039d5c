"""serctl, the SER control tool."""
