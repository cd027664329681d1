/*
 * objects.c — trust objects: C_FindObjectsInit/C_FindObjects/
 * C_FindObjectsFinal and C_GetAttributeValue.
 *
 * The token cannot enumerate its objects (there is one per revoked
 * certificate in the whole cache). It answers searches that name a
 * certificate: CKO_NSS_TRUST (or no class) with CKA_ISSUER and
 * CKA_SERIAL_NUMBER, the serial as DER INTEGER content or as a full DER
 * INTEGER (judge() decides which NSS meant). When librevocheck says revoked
 * — from exact, serial-keyed data only — the search finds one trust object
 * that distrusts the certificate
 * for every usage; otherwise nothing. A template matches when every
 * attribute it names exists on the object with identical bytes.
 */
#include "nssrc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const CK_OBJECT_CLASS trust_class = CKO_NSS_TRUST;
static const CK_BBOOL ck_true = CK_TRUE;
static const CK_BBOOL ck_false = CK_FALSE;
static const CK_TRUST not_trusted = CKT_NSS_NOT_TRUSTED;
static const char label[] = "revocheck: revoked";

/* The attributes of a trust object for (issuer, serial). Returns 0 when the
 * object has no attribute of that type. */
static int attribute(const unsigned char *issuer, CK_ULONG issuer_len,
                     const unsigned char *serial, CK_ULONG serial_len, CK_ATTRIBUTE_TYPE type,
                     const void **value, CK_ULONG *len)
{
	switch (type) {
	case CKA_CLASS:
		*value = &trust_class;
		*len = sizeof trust_class;
		return 1;
	case CKA_TOKEN:
		*value = &ck_true;
		*len = sizeof ck_true;
		return 1;
	case CKA_PRIVATE:
	case CKA_MODIFIABLE:
	case CKA_TRUST_STEP_UP_APPROVED:
		*value = &ck_false;
		*len = sizeof ck_false;
		return 1;
	case CKA_LABEL:
		*value = label;
		*len = sizeof label - 1;
		return 1;
	case CKA_ISSUER:
		*value = issuer;
		*len = issuer_len;
		return 1;
	case CKA_SERIAL_NUMBER:
		*value = serial;
		*len = serial_len;
		return 1;
	case CKA_TRUST_SERVER_AUTH:
	case CKA_TRUST_CLIENT_AUTH:
	case CKA_TRUST_EMAIL_PROTECTION:
	case CKA_TRUST_CODE_SIGNING:
		*value = &not_trusted;
		*len = sizeof not_trusted;
		return 1;
	default: /* CKA_CERT_SHA1_HASH and CKA_CERT_MD5_HASH are absent on purpose */
		return 0;
	}
}

/* 1 when every template attribute exists with identical bytes. */
static int template_matches(CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, const unsigned char *issuer,
                            CK_ULONG issuer_len, const unsigned char *serial, CK_ULONG serial_len)
{
	for (CK_ULONG i = 0; i < n; i++) {
		const void *v;
		CK_ULONG len;
		if (!attribute(issuer, issuer_len, serial, serial_len, tmpl[i].type, &v, &len))
			return 0;
		if (tmpl[i].ulValueLen != len || (len > 0 && memcmp(tmpl[i].pValue, v, len) != 0))
			return 0;
	}
	return 1;
}

/* Finds the attribute of a type in a template; NULL if absent. */
static CK_ATTRIBUTE_PTR find_attr(CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (tmpl[i].type == type)
			return &tmpl[i];
	return NULL;
}

/*
 * Serial encodings. NSS 3.87 (lib/pki, lib/dev) puts two encodings in
 * CKA_SERIAL_NUMBER of a CKO_NSS_TRUST search, both through
 * nssToken_FindTrustForCertificate:
 *  - the DER INTEGER content bytes (CERTCertificate.serialNumber), in the
 *    first search for a certificate it has just decoded from bytes
 *    (pki3hack.c fill_CERTCertificateFields, cryptocontext branch: every
 *    certificate of a handshake, every vfychain input);
 *  - the complete DER INTEGER, tag and length included (NSSCertificate.serial
 *    from CERT_SerialNumberFromDERCert, or the CKA_SERIAL_NUMBER of a
 *    certificate stored on a token) in every other search: the one that
 *    follows at once, on the same thread, when the first found nothing
 *    (stan_GetCERTCertificate via CERT_NewTempCertificate), and the only one
 *    for certificates read from a database (nssTrust_GetCERTCertTrustForCert).
 * The bytes alone cannot say which was meant: content 02 01 05 is also the
 * DER INTEGER of serial 05. So judge() reads a search as one encoding only
 * when that is certain, and never answers "revoked" for a reading that may
 * be the wrong one (docs/NSS.md "Serial encodings").
 */

/* The DER INTEGER content of s when s is exactly one INTEGER TLV in any
 * length form NSS's decoder accepts (1..4 length octets); else 0. */
static int der_integer(const unsigned char *s, size_t n, const unsigned char **content,
                       size_t *content_len)
{
	if (n < 2 || s[0] != 0x02)
		return 0;
	size_t len = s[1], hdr = 2;
	if (len & 0x80) {
		size_t k = len & 0x7f;
		if (k == 0 || k > 4 || n < 2 + k)
			return 0;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | s[2 + i];
		hdr += k;
	}
	if (len != n - hdr)
		return 0;
	*content = s + hdr;
	*content_len = len;
	return 1;
}

/* A search NSS did not precede with the content bytes (a certificate read
 * from a database) is taken as a DER INTEGER when the serial inside has at
 * least this many octets: a certificate whose serial's content bytes happen
 * to be 02, a length and another revoked serial of the same CA that long
 * does not occur (CA/B serials are >= 64 random bits; sequential serials
 * never reach 8 octets). Shorter serials stay ambiguous: no opinion. */
#define NSSRC_DER_ONLY_MIN 8

/* The last search of this thread that found nothing: NSS's DER follow-up
 * for a freshly decoded certificate comes right after it. Issuers longer
 * than the buffer are not remembered (their follow-up is then ambiguous). */
#define NSSRC_LAST_ISSUER 1024
static _Thread_local struct {
	size_t issuer_len, serial_len; /* issuer_len 0: nothing remembered */
	unsigned char issuer[NSSRC_LAST_ISSUER];
	unsigned char serial[NSSRC_MAX_SERIAL];
} last;

static int last_is(const unsigned char *issuer, size_t issuer_len, const unsigned char *serial,
                   size_t serial_len)
{
	return last.issuer_len != 0 && last.issuer_len == issuer_len &&
	       last.serial_len == serial_len && memcmp(last.issuer, issuer, issuer_len) == 0 &&
	       memcmp(last.serial, serial, serial_len) == 0;
}

static void remember(const unsigned char *issuer, size_t issuer_len, const unsigned char *serial,
                     size_t serial_len)
{
	last.issuer_len = 0;
	if (issuer_len > sizeof last.issuer || serial_len > sizeof last.serial)
		return;
	memcpy(last.issuer, issuer, issuer_len);
	memcpy(last.serial, serial, serial_len);
	last.serial_len = serial_len;
	last.issuer_len = issuer_len;
}

static void hexify(char *out, size_t size, const unsigned char *b, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 6 < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%02x", b[i]);
	if (o + 6 >= size && n * 2 > o)
		snprintf(out + o, size - o, "...");
}

/* 1 when librevocheck says the serial (content bytes) is revoked. Only
 * revoked distrusts: an issuer Name and a serial carry no SCTs, so the
 * library never answers ct_noncompliant here (policy.ct does not reach NSS,
 * docs/NSS.md), and if it ever did the certificate would stay trusted. */
static int is_revoked(const unsigned char *issuer, size_t issuer_len, const unsigned char *serial,
                      size_t serial_len)
{
	if (serial_len == 0)
		return 0;
	revocheck_result res = {0, 1};
	int answered = rc_check_issuer_serial(&nssrc_gl.loader, issuer, issuer_len, serial,
	                                      serial_len, &res);
	if (nssrc_gl.loader.debug) {
		char hex[64];
		hexify(hex, sizeof hex, serial, serial_len);
		rc_debug(&nssrc_gl.loader, "  serial content %s: %s", hex,
		         answered ? rc_outcome_name(res.outcome) : "unavailable");
	}
	return answered && res.outcome == REVOCHECK_OUTCOME_REVOKED;
}

/* 1 when the certificate NSS asks about is certainly revoked. */
static int judge(const unsigned char *issuer, size_t issuer_len, const unsigned char *q, size_t qn)
{
	const unsigned char *w;
	size_t wn;
	int verdict;
	const char *why;
	if (!der_integer(q, qn, &w, &wn)) {
		/* NSS's DER form always parses: these are content bytes. */
		verdict = is_revoked(issuer, issuer_len, q, qn);
		why = "content bytes (not a DER INTEGER)";
	} else if (last_is(issuer, issuer_len, w, wn)) {
		/* The follow-up for the certificate just asked about by its
		 * content bytes, which found nothing. */
		verdict = is_revoked(issuer, issuer_len, w, wn);
		why = "DER INTEGER following its content bytes";
	} else {
		int rq = is_revoked(issuer, issuer_len, q, qn);
		int rw = is_revoked(issuer, issuer_len, w, wn);
		if (rq == rw) {
			verdict = rq;
			why = "both readings agree";
		} else if (rw && wn >= NSSRC_DER_ONLY_MIN) {
			/* Read as content bytes, q would be the serial of another
			 * certificate of this CA made of 02, a length, and a revoked
			 * serial of >= 8 octets; read as DER, the certificate NSS holds
			 * from a database (no content-bytes search before). */
			verdict = 1;
			why = "DER INTEGER of a long serial";
		} else {
			verdict = 0;
			why = "ambiguous (content bytes or DER INTEGER): no opinion";
		}
	}
	if (verdict)
		last.issuer_len = 0;
	else
		remember(issuer, issuer_len, q, qn);
	if (nssrc_gl.loader.debug) {
		char hex[64];
		hexify(hex, sizeof hex, q, qn);
		rc_debug(&nssrc_gl.loader, "trust query (issuer %lu bytes, serial %s): %s, %s",
		         (unsigned long)issuer_len, hex, verdict ? "revoked" : "no trust object", why);
	}
	return verdict;
}

CK_RV nssrc_C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	if (pTemplate == NULL && ulCount > 0)
		return CKR_ARGUMENTS_BAD;
	for (CK_ULONG i = 0; i < ulCount; i++)
		if (pTemplate[i].pValue == NULL && pTemplate[i].ulValueLen > 0)
			return CKR_ATTRIBUTE_VALUE_INVALID;

	struct nssrc_session *s;
	NSSRC_LOCK();
	NSSRC_SESSION(hSession, s);
	if (s->finding) {
		NSSRC_UNLOCK();
		return CKR_OPERATION_ACTIVE;
	}
	s->finding = 1;
	s->result = 0;
	s->delivered = 0;

	/* Only a search naming one certificate can find anything; and only
	 * if the rest of the template could match a trust object at all —
	 * which spares the check for NSS's many certificate searches. */
	CK_ATTRIBUTE_PTR ia = find_attr(pTemplate, ulCount, CKA_ISSUER);
	CK_ATTRIBUTE_PTR sa = find_attr(pTemplate, ulCount, CKA_SERIAL_NUMBER);
	if (ia == NULL || sa == NULL || ia->ulValueLen == 0 || sa->ulValueLen == 0 ||
	    ia->ulValueLen > NSSRC_MAX_ISSUER || sa->ulValueLen > NSSRC_MAX_SERIAL ||
	    !template_matches(pTemplate, ulCount, ia->pValue, ia->ulValueLen, sa->pValue,
	                      sa->ulValueLen)) {
		NSSRC_UNLOCK();
		return CKR_OK;
	}
	/* Check without our lock held (other threads keep going); Finalize
	 * waits for busy to drop to 0. The template is the caller's and stays
	 * valid for the duration of this call. */
	nssrc_gl.busy++;
	NSSRC_UNLOCK();

	int revoked = judge(ia->pValue, ia->ulValueLen, sa->pValue, sa->ulValueLen);

	/* Locked by hand, not with NSSRC_LOCK(): busy must drop even when a
	 * C_Finalize (waiting for it) has begun. The session may have been
	 * closed meanwhile. */
	CK_RV rv = CKR_OK;
	pthread_mutex_lock(&nssrc_gl.lock);
	if (--nssrc_gl.busy == 0)
		pthread_cond_broadcast(&nssrc_gl.idle);
	s = nssrc_session_inlock(hSession);
	if (s == NULL || !nssrc_gl.initialized) {
		rv = CKR_SESSION_HANDLE_INVALID;
	} else if (revoked) {
		s->result = nssrc_object_add_inlock(ia->pValue, ia->ulValueLen, sa->pValue, sa->ulValueLen);
		if (s->result == 0) {
			s->finding = 0;
			rv = CKR_HOST_MEMORY;
		}
	}
	NSSRC_UNLOCK();
	return rv;
}

CK_RV nssrc_C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
                          CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
	struct nssrc_session *s;
	if (pulObjectCount == NULL || (phObject == NULL && ulMaxObjectCount > 0))
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	NSSRC_SESSION(hSession, s);
	if (!s->finding) {
		NSSRC_UNLOCK();
		return CKR_OPERATION_NOT_INITIALIZED;
	}
	*pulObjectCount = 0;
	if (s->result != 0 && !s->delivered && ulMaxObjectCount > 0) {
		phObject[0] = s->result;
		*pulObjectCount = 1;
		s->delivered = 1;
	}
	NSSRC_UNLOCK();
	return CKR_OK;
}

CK_RV nssrc_C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	struct nssrc_session *s;
	NSSRC_LOCK();
	NSSRC_SESSION(hSession, s);
	if (!s->finding) {
		NSSRC_UNLOCK();
		return CKR_OPERATION_NOT_INITIALIZED;
	}
	s->finding = 0;
	NSSRC_UNLOCK();
	return CKR_OK;
}

CK_RV nssrc_C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                                CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	CK_RV rv = CKR_OK;
	struct nssrc_session *s;
	if (pTemplate == NULL && ulCount > 0)
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	NSSRC_SESSION(hSession, s);
	(void)s; /* only its existence matters */
	struct nssrc_object *o = nssrc_object_inlock(hObject);
	if (o == NULL) {
		NSSRC_UNLOCK();
		return CKR_OBJECT_HANDLE_INVALID;
	}
	/* PKCS#11 v2.40 §5.7: fill every attribute that can be filled; mark
	 * the others with CK_UNAVAILABLE_INFORMATION and report one error. */
	for (CK_ULONG i = 0; i < ulCount; i++) {
		const void *v;
		CK_ULONG len;
		if (!attribute(o->issuer, o->issuer_len, o->serial, o->serial_len, pTemplate[i].type,
		               &v, &len)) {
			pTemplate[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (pTemplate[i].pValue == NULL) {
			pTemplate[i].ulValueLen = len;
		} else if (pTemplate[i].ulValueLen < len) {
			pTemplate[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			if (rv == CKR_OK)
				rv = CKR_BUFFER_TOO_SMALL;
		} else {
			memcpy(pTemplate[i].pValue, v, len);
			pTemplate[i].ulValueLen = len;
		}
	}
	NSSRC_UNLOCK();
	return rv;
}
