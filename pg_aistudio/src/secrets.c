/*-------------------------------------------------------------------------
 * src/secrets.c
 *		The master key and AES-256-GCM sealing of secrets and literal LLM
 *		API keys.  Owns: loading and caching the master key (and the previous
 *		key during a rotation), SecretsSeal/SecretsOpen for other modules and
 *		the internal SQL helpers seal_value, open_value, reseal_value and
 *		secret_key_id that the secrets section of the SQL API builds on.
 *
 * The format of a sealed value, the key id and the parsing of a key are
 * src/sealbox.c's (the one implementation, which gatewayd compiles too);
 * this file picks the key.
 *
 * The master key is 32 bytes written as 64 hex digits (surrounding
 * whitespace allowed) in the file named by pg_aistudio.secret_key_file, or,
 * when that GUC is empty, in the server environment variable
 * AISTUDIO_SECRET_KEY.  pg_aistudio.previous_secret_key_file names the key
 * being retired; it is only used to open values it sealed.
 *
 * Each backend caches the keys it loaded and reloads one when its GUC value
 * changes or its file changes (inode, size, mtime, ctime).  Discarded key
 * bytes are wiped with explicit_bzero.  No key byte and no plaintext ever
 * appears in an error message.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "storage/fd.h"
#include "utils/builtins.h"

#include "aistudio.h"
#include "sealbox.h"
#include "secrets.h"

PG_FUNCTION_INFO_V1(aistudio_seal_value);
PG_FUNCTION_INFO_V1(aistudio_open_value);
PG_FUNCTION_INFO_V1(aistudio_reseal_value);
PG_FUNCTION_INFO_V1(aistudio_secret_key_id);

#define SECRET_KEY_ENV "AISTUDIO_SECRET_KEY"
#define KEY_FILE_MAX 256		/* a key file is 64 hex digits + whitespace */

/* One loaded master key and where it came from. */
typedef struct KeySlot
{
	bool		loaded;
	char		source[MAXPGPATH];	/* file path; "" = environment */
	dev_t		st_dev;
	ino_t		st_ino;
	off_t		st_size;
	time_t		st_mtime_;
	time_t		st_ctime_;
	aistudio_seal_key k;		/* the key bytes and their key_id */
} KeySlot;

static KeySlot current_key;
static KeySlot previous_key;

/* Forget a slot, wiping its key bytes. */
static void
KeySlotWipe(KeySlot *slot)
{
	explicit_bzero(slot, sizeof(*slot));
}

/*
 * Parse a key (64 hex digits, surrounding whitespace allowed; sealbox.c) into
 * slot.  Returns false (slot wiped) when the text is malformed.
 */
static bool
ParseKey(const char *text, size_t len, KeySlot *slot)
{
	char		err[AISTUDIO_SEAL_ERR_LEN];

	if (aistudio_seal_key_parse(text, len, &slot->k, err) != 0)
	{
		KeySlotWipe(slot);
		return false;
	}
	return true;
}

/*
 * Read the key file path (named by GUC guc) into slot.  Raises 55000 when the
 * file cannot be read or does not hold a well-formed key.
 */
static void
LoadKeyFile(KeySlot *slot, const char *path, const char *guc)
{
	char		buf[KEY_FILE_MAX];
	FILE	   *f;
	size_t		n;
	struct stat st;
	bool		ok;

	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not read the master key file \"%s\": %m", path),
				 errdetail("The file is named by %s.", guc)));
	f = AllocateFile(path, PG_BINARY_R);
	if (f == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not read the master key file \"%s\": %m", path),
				 errdetail("The file is named by %s.", guc)));
	n = fread(buf, 1, sizeof(buf), f);
	ok = !ferror(f) && n < sizeof(buf);
	FreeFile(f);

	KeySlotWipe(slot);
	if (ok)
		ok = ParseKey(buf, n, slot);
	explicit_bzero(buf, sizeof(buf));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the master key file \"%s\" named by %s is malformed", path, guc),
				 errdetail("The file must hold exactly 64 hexadecimal digits (32 bytes), optionally surrounded by whitespace."),
				 errhint("Generate a key with: openssl rand -hex 32")));

	strlcpy(slot->source, path, sizeof(slot->source));
	slot->st_dev = st.st_dev;
	slot->st_ino = st.st_ino;
	slot->st_size = st.st_size;
	slot->st_mtime_ = st.st_mtime;
	slot->st_ctime_ = st.st_ctime;
	slot->loaded = true;
}

/* Is slot still what the file path holds? */
static bool
KeySlotFresh(const KeySlot *slot, const char *path)
{
	struct stat st;

	if (!slot->loaded || strcmp(slot->source, path) != 0)
		return false;
	if (path[0] == '\0')
		return true;			/* the environment does not change */
	if (stat(path, &st) != 0)
		return false;
	return st.st_dev == slot->st_dev && st.st_ino == slot->st_ino &&
		st.st_size == slot->st_size && st.st_mtime == slot->st_mtime_ &&
		st.st_ctime == slot->st_ctime_;
}

/* The current master key; raises 55000 when none is usable. */
static const KeySlot *
CurrentKey(void)
{
	const char *path = aistudio_secret_key_file ? aistudio_secret_key_file : "";
	const char *env;
	bool		ok;

	if (KeySlotFresh(&current_key, path))
		return &current_key;

	KeySlotWipe(&current_key);
	if (path[0] != '\0')
	{
		LoadKeyFile(&current_key, path, "pg_aistudio.secret_key_file");
		return &current_key;
	}

	env = getenv(SECRET_KEY_ENV);
	if (env == NULL || env[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no master key is configured for pg_aistudio secrets"),
				 errdetail("Neither pg_aistudio.secret_key_file nor the server environment variable %s is set.",
						   SECRET_KEY_ENV),
				 errhint("Write a key made with \"openssl rand -hex 32\" to a file readable only by the server and set pg_aistudio.secret_key_file to its path.")));
	ok = ParseKey(env, strlen(env), &current_key);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the master key in the environment variable %s is malformed", SECRET_KEY_ENV),
				 errdetail("The key must be exactly 64 hexadecimal digits (32 bytes).")));
	current_key.loaded = true;
	return &current_key;
}

/* The previous master key, or NULL when pg_aistudio.previous_secret_key_file is empty. */
static const KeySlot *
PreviousKey(void)
{
	const char *path = aistudio_previous_secret_key_file;

	if (path == NULL || path[0] == '\0')
	{
		if (previous_key.loaded)
			KeySlotWipe(&previous_key);
		return NULL;
	}
	if (!KeySlotFresh(&previous_key, path))
		LoadKeyFile(&previous_key, path, "pg_aistudio.previous_secret_key_file");
	return &previous_key;
}

/* The loaded key named key_id (current or previous); raises 55000 if none. */
static const KeySlot *
KeyById(const char *key_id)
{
	const KeySlot *k = CurrentKey();

	if (strcmp(k->k.key_id, key_id) == 0)
		return k;
	k = PreviousKey();
	if (k != NULL && strcmp(k->k.key_id, key_id) == 0)
		return k;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the value was sealed with master key %s, which is not loaded", key_id),
			 errdetail("The current master key is %s.", CurrentKey()->k.key_id),
			 errhint("Set pg_aistudio.previous_secret_key_file to the file holding key %s and run aistudio.rotate_secret_key().",
					 key_id)));
	return NULL;				/* keep compiler quiet */
}

void
SecretsCurrentKeyId(char *key_id_out)
{
	strlcpy(key_id_out, CurrentKey()->k.key_id, SECRETS_KEY_ID_SIZE);
}

void
SecretsSeal(const char *aad, const char *plain, Size len,
			char *key_id_out, bytea **nonce, bytea **ciphertext)
{
	SecretsSealWith(&CurrentKey()->k, aad, plain, len, nonce, ciphertext);
	strlcpy(key_id_out, CurrentKey()->k.key_id, SECRETS_KEY_ID_SIZE);
}

void
SecretsSealWith(const aistudio_seal_key *key, const char *aad, const char *plain, Size len,
				bytea **nonce, bytea **ciphertext)
{
	char		err[AISTUDIO_SEAL_ERR_LEN];
	bytea	   *n;
	bytea	   *c;

	if (len > SECRETS_MAX_PLAIN_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value to seal is too long"),
				 errdetail("At most %d bytes can be sealed.", SECRETS_MAX_PLAIN_LEN)));

	n = (bytea *) palloc(VARHDRSZ + AISTUDIO_SEAL_NONCE_LEN);
	SET_VARSIZE(n, VARHDRSZ + AISTUDIO_SEAL_NONCE_LEN);
	c = (bytea *) palloc(VARHDRSZ + len + AISTUDIO_SEAL_TAG_LEN);
	SET_VARSIZE(c, VARHDRSZ + len + AISTUDIO_SEAL_TAG_LEN);
	if (aistudio_seal(key, aad, plain, len, (unsigned char *) VARDATA(n),
					  (unsigned char *) VARDATA(c), err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not encrypt the value: %s", err)));
	*nonce = n;
	*ciphertext = c;
}

char *
SecretsOpen(const char *aad, const char *key_id, bytea *nonce,
			bytea *ciphertext, Size *len)
{
	const KeySlot *k = KeyById(key_id);
	Size		clen = VARSIZE_ANY_EXHDR(ciphertext);
	size_t		plen = 0;
	char	   *plain;
	char		err[AISTUDIO_SEAL_ERR_LEN];

	if (VARSIZE_ANY_EXHDR(nonce) != AISTUDIO_SEAL_NONCE_LEN ||
		clen < AISTUDIO_SEAL_TAG_LEN || clen - AISTUDIO_SEAL_TAG_LEN > SECRETS_MAX_PLAIN_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("sealed value is malformed"),
				 errdetail("A sealed value has a %d-byte nonce and at least a %d-byte tag.",
						   AISTUDIO_SEAL_NONCE_LEN, AISTUDIO_SEAL_TAG_LEN)));
	plain = palloc(clen - AISTUDIO_SEAL_TAG_LEN + 1);
	if (aistudio_seal_open(&k->k, aad, (const unsigned char *) VARDATA_ANY(nonce), AISTUDIO_SEAL_NONCE_LEN,
						   (const unsigned char *) VARDATA_ANY(ciphertext), clen,
						   (unsigned char *) plain, &plen, err) != 0)
	{
		pfree(plain);
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not decrypt the sealed value"),
				 errdetail("The value does not authenticate: it was altered, moved to another owner or sealed with another key.")));
	}
	plain[plen] = '\0';
	if (len)
		*len = plen;
	return plain;
}

/* Build the (key_id, nonce, ciphertext) record of an OUT-parameter function. */
static Datum
SealedRecord(FunctionCallInfo fcinfo, const char *key_id, bytea *nonce, bytea *ciphertext)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = CStringGetTextDatum(key_id);
	values[1] = PointerGetDatum(nonce);
	values[2] = PointerGetDatum(ciphertext);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * aistudio.seal_value(aad text, value text, OUT key_id text, OUT nonce bytea,
 *                     OUT ciphertext bytea)
 */
Datum
aistudio_seal_value(PG_FUNCTION_ARGS)
{
	char	   *aad = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *value = PG_GETARG_TEXT_PP(1);
	char		key_id[SECRETS_KEY_ID_SIZE];
	bytea	   *nonce;
	bytea	   *ciphertext;

	SecretsSeal(aad, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), key_id, &nonce, &ciphertext);
	PG_RETURN_DATUM(SealedRecord(fcinfo, key_id, nonce, ciphertext));
}

/* aistudio.open_value(aad text, key_id text, nonce bytea, ciphertext bytea) -> text */
Datum
aistudio_open_value(PG_FUNCTION_ARGS)
{
	char	   *aad = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *key_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Size		len;
	char	   *plain;
	text	   *result;

	plain = SecretsOpen(aad, key_id, PG_GETARG_BYTEA_PP(2), PG_GETARG_BYTEA_PP(3), &len);
	result = cstring_to_text_with_len(plain, len);
	explicit_bzero(plain, len);
	pfree(plain);
	PG_RETURN_TEXT_P(result);
}

/*
 * aistudio.reseal_value(aad text, key_id text, nonce bytea, ciphertext bytea,
 *                       OUT key_id text, OUT nonce bytea, OUT ciphertext bytea)
 *
 * Open a value with whichever loaded key sealed it and seal it again under
 * the current key; the plaintext never leaves this function.
 */
Datum
aistudio_reseal_value(PG_FUNCTION_ARGS)
{
	char	   *aad = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *old_key_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Size		len;
	char	   *plain;
	char		key_id[SECRETS_KEY_ID_SIZE];
	bytea	   *nonce;
	bytea	   *ciphertext;

	plain = SecretsOpen(aad, old_key_id, PG_GETARG_BYTEA_PP(2), PG_GETARG_BYTEA_PP(3), &len);
	SecretsSeal(aad, plain, len, key_id, &nonce, &ciphertext);
	explicit_bzero(plain, len);
	pfree(plain);
	PG_RETURN_DATUM(SealedRecord(fcinfo, key_id, nonce, ciphertext));
}

/* aistudio.secret_key_id() -> text: id of the current master key */
Datum
aistudio_secret_key_id(PG_FUNCTION_ARGS)
{
	char		key_id[SECRETS_KEY_ID_SIZE];

	SecretsCurrentKeyId(key_id);
	PG_RETURN_TEXT_P(cstring_to_text(key_id));
}
