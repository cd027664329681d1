/*
 * state.c — the module's one state (nssrc_gl) and the helpers over it:
 * the fork handlers for its lock, the session table and the ring of trust
 * objects. The entry points (module.c, objects.c, unsupported.c) use these;
 * nothing here calls an entry point.
 */
#include "nssrc.h"

#include <stdlib.h>
#include <string.h>

struct nssrc_state nssrc_gl = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A fork while another thread holds the lock would leave the child with a
 * lock nobody can release: take it around fork. In the child no other
 * thread exists, so no check is in flight. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&nssrc_gl.lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&nssrc_gl.lock);
}

static void atfork_child(void)
{
	nssrc_gl.busy = 0;
	pthread_mutex_unlock(&nssrc_gl.lock);
}

static void register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void nssrc_atfork_once(void)
{
	pthread_once(&atfork_once, register_atfork);
}

struct nssrc_session *nssrc_session_inlock(CK_SESSION_HANDLE h)
{
	for (size_t i = 0; i < nssrc_gl.n_sessions; i++)
		if (nssrc_gl.sessions[i]->handle == h)
			return nssrc_gl.sessions[i];
	return NULL;
}

void nssrc_sessions_close_inlock(void)
{
	for (size_t i = 0; i < nssrc_gl.n_sessions; i++)
		free(nssrc_gl.sessions[i]);
	nssrc_gl.n_sessions = 0;
}

void nssrc_objects_clear_inlock(void)
{
	for (size_t i = 0; i < NSSRC_OBJECTS; i++) {
		free(nssrc_gl.objects[i].issuer);
		free(nssrc_gl.objects[i].serial);
		memset(&nssrc_gl.objects[i], 0, sizeof nssrc_gl.objects[i]);
	}
}

struct nssrc_object *nssrc_object_inlock(CK_OBJECT_HANDLE h)
{
	struct nssrc_object *o = &nssrc_gl.objects[h % NSSRC_OBJECTS];
	return h != 0 && o->handle == h ? o : NULL;
}

CK_OBJECT_HANDLE nssrc_object_add_inlock(const unsigned char *issuer, CK_ULONG issuer_len,
                                         const unsigned char *serial, CK_ULONG serial_len)
{
	for (size_t i = 0; i < NSSRC_OBJECTS; i++) {
		struct nssrc_object *o = &nssrc_gl.objects[i];
		if (o->handle != 0 && o->issuer_len == issuer_len && o->serial_len == serial_len &&
		    memcmp(o->issuer, issuer, issuer_len) == 0 &&
		    memcmp(o->serial, serial, serial_len) == 0)
			return o->handle;
	}
	unsigned char *ci = malloc(issuer_len), *cs = malloc(serial_len);
	if (ci == NULL || cs == NULL) {
		free(ci);
		free(cs);
		return 0;
	}
	memcpy(ci, issuer, issuer_len);
	memcpy(cs, serial, serial_len);
	CK_OBJECT_HANDLE h = nssrc_gl.next_object++;
	if (nssrc_gl.next_object == 0)
		nssrc_gl.next_object = 1;
	struct nssrc_object *o = &nssrc_gl.objects[h % NSSRC_OBJECTS];
	free(o->issuer);
	free(o->serial);
	*o = (struct nssrc_object){h, ci, issuer_len, cs, serial_len};
	return h;
}
