// Package loopback listens on the loopback interface: what the embedded
// Kafka-protocol brokers of the demo and of the tests bind to, so that
// nothing they serve is reachable from another machine.
package loopback

import "net"

// Listen listens on address over TCP, on 127.0.0.1 when address has no
// host (":0", ":9092"). network is ignored (kfake's ListenFn passes "tcp").
func Listen(network, address string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.Listen("tcp", net.JoinHostPort(host, port))
}
