"""One HTTPS request to a loopback port, for the edge tests: connects to 127.0.0.1:PORT, sends SNI and Host NAME,
checks the server's certificate against CA (and that it is NAME's), optionally presents a client certificate.

usage: https_probe.py [--proxy-header] PORT NAME PATH CA [CLIENT_CERT CLIENT_KEY]

--proxy-header: send a PROXY protocol v1 header (client 203.0.113.7) before the TLS handshake.

Prints one JSON line: {"status": 200, "location": ..., "body": ..., "serial": "<server certificate serial>"} or
{"error": "..."} when the TLS handshake or the request fails.
"""
import http.client
import json
import socket
import ssl
import sys


def main():
    args = sys.argv[1:]
    proxy_header = "--proxy-header" in args
    args = [a for a in args if a != "--proxy-header"]
    port, name, path, ca = int(args[0]), args[1], args[2], args[3]
    context = ssl.create_default_context(cafile=ca)
    if len(args) > 5:
        context.load_cert_chain(args[4], args[5])
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        if proxy_header:
            raw.sendall(f"PROXY TCP4 203.0.113.7 127.0.0.1 40000 {port}\r\n".encode())
        tls = context.wrap_socket(raw, server_hostname=name)
        serial = format(int(tls.getpeercert()["serialNumber"], 16), "x")
        connection = http.client.HTTPConnection(name, port, timeout=5)
        connection.sock = tls
        connection.request("GET", path, headers={"Host": name})
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        print(json.dumps({"status": response.status, "location": response.getheader("location"), "body": body,
                          "serial": serial}))
    except (OSError, ssl.SSLError, http.client.HTTPException) as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))


if __name__ == "__main__":
    main()
