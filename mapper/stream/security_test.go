package stream_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/mapperhq/mapper/internal/kafkatest"
	"github.com/mapperhq/mapper/mapper/kafkaconn"
	"github.com/mapperhq/mapper/mapper/stream"
)

// testCA makes a CA and a server certificate for 127.0.0.1 and returns the
// server's TLS configuration and the CA's PEM file.
func testCA(t *testing.T) (*tls.Config, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mapper test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, caFile
}

// TestSecuredBroker runs the worker against an embedded broker that requires
// TLS and SASL, with each mechanism, and checks that bad credentials fail at
// start with a clear error instead of retrying.
func TestSecuredBroker(t *testing.T) {
	serverTLS, caFile := testCA(t)
	plain := kafkatest.StartKfake(t,
		kfake.TLS(serverTLS), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "admin", "admin-secret"),
		kfake.Superuser("SCRAM-SHA-256", "scram256", "s256-secret"),
		kfake.Superuser("SCRAM-SHA-512", "scram512", "s512-secret"),
	)
	clientTLS, err := kafkaconn.TLSConfig(caFile, "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	adminMech, err := kafkaconn.SASLMechanism("PLAIN", "admin", "admin-secret")
	if err != nil {
		t.Fatal(err)
	}
	admin := plain.WithAuth(clientTLS, adminMech)
	in := admin.Topic(t, "secure-in", 1)
	out, dlq := admin.Topic(t, "secure-out", 1), admin.Topic(t, "secure-dlq", 1)
	e := loadEngine(t, in)
	admin.Produce(t, in, mixed(30)...)

	for _, tt := range []struct{ mech, user, pass string }{
		{"PLAIN", "admin", "admin-secret"},
		{"SCRAM-SHA-256", "scram256", "s256-secret"},
		{"scram-sha-512", "scram512", "s512-secret"},
	} {
		t.Run(tt.mech+" over TLS delivers", func(t *testing.T) {
			mech, err := kafkaconn.SASLMechanism(tt.mech, tt.user, tt.pass)
			if err != nil {
				t.Fatal(err)
			}
			b := plain.WithAuth(clientTLS, mech)
			r := start(t, testConfig(b, e, kafkatest.UniqueName("g"), []string{in}, out, dlq))
			waitLagZero(t, r.w, 30*time.Second)
			waitCommitted(r.w, 30, 10*time.Second)
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			if c := r.w.Counts(0); c.Committed != 30 {
				t.Errorf("committed %d records, want 30", c.Committed)
			}
		})
	}
	verifyDelivered(t, admin, e, []string{in}, out, dlq)

	wrongPass, _ := kafkaconn.SASLMechanism("SCRAM-SHA-256", "scram256", "wrong")
	unknownUser, _ := kafkaconn.SASLMechanism("PLAIN", "mallory", "admin-secret")
	for _, tt := range []struct {
		name string
		tls  func() *tls.Config
		b    *kafkatest.Broker
	}{
		{"a wrong password", func() *tls.Config { return clientTLS }, plain.WithAuth(clientTLS, wrongPass)},
		{"an unknown user", func() *tls.Config { return clientTLS }, plain.WithAuth(clientTLS, unknownUser)},
		{"an untrusted certificate", func() *tls.Config { return &tls.Config{} }, plain.WithAuth(&tls.Config{}, adminMech)},
	} {
		t.Run(tt.name+" fails at start", func(t *testing.T) {
			cfg := testConfig(tt.b, e, kafkatest.UniqueName("g"), []string{in}, out, dlq)
			cfg.Logger = testLogger(t)
			w, err := stream.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = w.Run(ctx)
			if !errors.Is(err, stream.ErrAuth) {
				t.Fatalf("Run: got %v, want an error wrapping ErrAuth", err)
			}
			if ctx.Err() != nil {
				t.Fatalf("Run retried until the deadline instead of failing at once: %v", err)
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestSASLMechanismRejectsBadSettings(t *testing.T) {
	tests := []struct {
		name, mech, user, pass string
	}{
		{"unknown mechanism", "GSSAPI", "u", "p"},
		{"mechanism without user", "PLAIN", "", "p"},
		{"user without mechanism", "", "u", "p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := kafkaconn.SASLMechanism(tt.mech, tt.user, tt.pass); err == nil {
				t.Fatal("no error")
			}
		})
	}
	t.Run("no mechanism means no SASL", func(t *testing.T) {
		m, err := kafkaconn.SASLMechanism("", "", "")
		if err != nil || m != nil {
			t.Fatalf("got %v, %v; want nil, nil", m, err)
		}
	})
}

func TestTLSConfigRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, ca, cert, key string }{
		{"missing CA file", filepath.Join(dir, "none.pem"), "", ""},
		{"CA file without a certificate", notPEM, "", ""},
		{"certificate without key", "", notPEM, ""},
		{"unreadable key pair", "", notPEM, notPEM},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := kafkaconn.TLSConfig(tt.ca, tt.cert, tt.key, false); err == nil {
				t.Fatal("no error")
			}
		})
	}
}
