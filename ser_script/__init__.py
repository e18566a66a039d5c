"""SER, the SIP Express Router: the route-script language front end (grammar, AST, checker, compiler)."""
