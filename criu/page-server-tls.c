/*
 * TLS for the page server's stream (Documentation/page-server.md, "TLS"):
 * X.509 certificates on both ends through gnutls. The server requires the
 * dump's certificate and checks its chain against the CA; the dump checks
 * the server's chain and, unless --tls-no-cn-verify, that the certificate
 * names the --address it connected to. The stream inside is the plain
 * protocol, message for message; records are filled up to the TLS maximum
 * by callers that send and receive in large buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define LOG_PREFIX "page-server: "
#include "log.h"
#include "page-server.h"

/* Where the established tool looks when a --tls-* path is not given. */
#define TLS_CACERT	"/etc/pki/CA/cacert.pem"
#define TLS_CACRL	"/etc/pki/CA/cacrl.pem"
#define TLS_CERT	"/etc/pki/criu/cert.pem"
#define TLS_KEY		"/etc/pki/criu/private/key.pem"

#define HANDSHAKE_TIMEOUT_MS	(30 * 1000)

struct ps_tls {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
};

static int load_trust(struct ps_tls *t, const struct cr_options *o)
{
	const char *ca = o->tls_cacert ? o->tls_cacert : TLS_CACERT;
	const char *crl = o->tls_cacrl ? o->tls_cacrl : TLS_CACRL;
	int r;

	/* no --tls-cacert and nothing at the default path: the system's CAs */
	if (!o->tls_cacert && access(ca, R_OK)) {
		ca = "the system's trust store";
		r = gnutls_certificate_set_x509_system_trust(t->cred);
	} else {
		r = gnutls_certificate_set_x509_trust_file(t->cred, ca, GNUTLS_X509_FMT_PEM);
	}
	if (r <= 0) {
		pr_err("TLS CA certificates (%s): %s", ca,
		       r ? gnutls_strerror(r) : "no certificate in it");
		return -1;
	}
	if (!o->tls_cacrl && access(crl, R_OK))
		return 0;
	r = gnutls_certificate_set_x509_crl_file(t->cred, crl, GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		pr_err("TLS revocation list %s: %s", crl, gnutls_strerror(r));
		return -1;
	}
	return 0;
}

static int load_creds(struct ps_tls *t, const struct cr_options *o)
{
	const char *cert = o->tls_cert ? o->tls_cert : TLS_CERT;
	const char *key = o->tls_key ? o->tls_key : TLS_KEY;
	int r;

	r = gnutls_certificate_allocate_credentials(&t->cred);
	if (r) {
		t->cred = NULL;
		pr_err("TLS credentials: %s", gnutls_strerror(r));
		return -1;
	}
	if (load_trust(t, o))
		return -1;
	r = gnutls_certificate_set_x509_key_file(t->cred, cert, key, GNUTLS_X509_FMT_PEM);
	if (r) {
		pr_err("TLS certificate %s with key %s: %s", cert, key, gnutls_strerror(r));
		return -1;
	}
	return 0;
}

/* The peer's chain against the CA and, with @name, its names against @name. */
static int verify_peer(struct ps_tls *t, const char *name)
{
	gnutls_datum_t txt;
	unsigned int status;
	int r;

	r = gnutls_certificate_verify_peers3(t->s, name, &status);
	if (r) {
		pr_err("can't verify the peer's certificate: %s", gnutls_strerror(r));
		return -1;
	}
	if (!status)
		return 0;
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt, 0)) {
		pr_err("the peer's certificate is refused (status %#x)", status);
		return -1;
	}
	pr_err("the peer's certificate is refused: %s", txt.data);
	gnutls_free(txt.data);
	return -1;
}

static int new_session(struct ps_tls *t, int sk, bool server)
{
	int r;

	r = gnutls_init(&t->s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NO_SIGNAL);
	if (r) {
		t->s = NULL;
		pr_err("TLS session: %s", gnutls_strerror(r));
		return -1;
	}
	r = gnutls_set_default_priority(t->s);
	if (!r)
		r = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (r) {
		pr_err("TLS session: %s", gnutls_strerror(r));
		return -1;
	}
	if (server)
		gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUIRE);
	gnutls_transport_set_int(t->s, sk);
	gnutls_handshake_set_timeout(t->s, HANDSHAKE_TIMEOUT_MS);
	return 0;
}

void ps_tls_end(struct ps_tls *t)
{
	if (!t)
		return;
	if (t->s)
		gnutls_deinit(t->s);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}

struct ps_tls *ps_tls_new(const struct cr_options *o)
{
	struct ps_tls *t = calloc(1, sizeof(*t));

	if (!t) {
		pr_err("out of memory");
		return NULL;
	}
	if (load_creds(t, o)) {
		ps_tls_end(t);
		return NULL;
	}
	return t;
}

int ps_tls_handshake(struct ps_tls *t, int sk, const struct cr_options *o, bool server)
{
	const char *name = server || o->tls_no_cn_verify ? NULL : o->address;
	char *desc;
	int r;

	if (new_session(t, sk, server))
		return -1;
	do {
		r = gnutls_handshake(t->s);
	} while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		pr_err("TLS handshake with the %s failed: %s%s", server ? "dump" : "page server",
		       gnutls_strerror(r), server ? "" : " (does it run with --tls?)");
		gnutls_alert_send_appropriate(t->s, r);	/* the peer learns why */
		return -1;
	}
	if (!server && !name && !o->tls_no_cn_verify)
		pr_warn("no --address: the page server's certificate name is not checked");
	if (verify_peer(t, name)) {
		gnutls_alert_send(t->s, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
		return -1;
	}
	desc = gnutls_session_get_desc(t->s);
	pr_info("TLS: %s", desc ? desc : "?");
	gnutls_free(desc);
	return 0;
}

struct ps_tls *ps_tls_start(int sk, const struct cr_options *o, bool server)
{
	struct ps_tls *t = ps_tls_new(o);

	if (t && ps_tls_handshake(t, sk, o, server)) {
		ps_tls_end(t);
		return NULL;
	}
	return t;
}

int ps_tls_send(struct ps_tls *t, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = gnutls_record_send(t->s, p, len);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0) {
			pr_err("the peer is gone (TLS: %s)", gnutls_strerror(n));
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

ssize_t ps_tls_recv(struct ps_tls *t, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = gnutls_record_recv(t->s, buf, len);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;	/* the peer died: an end like any other */
		if (n == GNUTLS_E_FATAL_ALERT_RECEIVED)
			pr_err("the peer refused the TLS session: %s",
			       gnutls_alert_get_name(gnutls_alert_get(t->s)));
		else if (n < 0)
			pr_err("TLS: %s", gnutls_strerror(n));
		return n < 0 ? -1 : n;
	}
}
