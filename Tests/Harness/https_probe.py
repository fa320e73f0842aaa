"""One HTTPS request to a loopback port, for the edge tests: connects to 127.0.0.1:PORT, sends SNI and Host NAME,
checks the server's certificate against CA (and that it is NAME's), optionally presents a client certificate.

usage: https_probe.py PORT NAME PATH CA [CLIENT_CERT CLIENT_KEY]

Prints one JSON line: {"status": 200, "location": ..., "body": ..., "serial": "<server certificate serial>"} or
{"error": "..."} when the TLS handshake or the request fails.
"""
import http.client
import json
import socket
import ssl
import sys


def main():
    port, name, path, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    context = ssl.create_default_context(cafile=ca)
    if len(sys.argv) > 6:
        context.load_cert_chain(sys.argv[5], sys.argv[6])
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
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
