"""Outbound HTTP: the http-request node and its parts (URL, body, response, proxy,
cookies). There is no http-in: a device that opens no ports only originates requests."""
