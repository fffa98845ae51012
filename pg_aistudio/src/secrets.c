/*-------------------------------------------------------------------------
 * src/secrets.c
 *		The master key and AES-256-GCM sealing of secrets and literal LLM
 *		API keys.  Owns: loading and caching the master key (and the previous
 *		key during a rotation), SecretsSeal/SecretsOpen for other modules and
 *		the internal SQL helpers seal_value, open_value, reseal_value and
 *		secret_key_id that the secrets section of the SQL API builds on.
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

#include <ctype.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "storage/fd.h"
#include "utils/builtins.h"

#include "aistudio.h"
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
	unsigned char key[AISTUDIO_KEY_LEN];
	char		key_id[SECRETS_KEY_ID_SIZE];
} KeySlot;

static KeySlot current_key;
static KeySlot previous_key;

/* Forget a slot, wiping its key bytes. */
static void
KeySlotWipe(KeySlot *slot)
{
	explicit_bzero(slot, sizeof(*slot));
}

/* key_id = first 16 lowercase hex digits of SHA-256(key bytes). */
static void
ComputeKeyId(const unsigned char *key, char *key_id)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char hex[] = "0123456789abcdef";

	if (EVP_Digest(key, AISTUDIO_KEY_LEN, md, &mdlen, EVP_sha256(), NULL) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the master key id")));
	for (int i = 0; i < 8; i++)
	{
		key_id[2 * i] = hex[md[i] >> 4];
		key_id[2 * i + 1] = hex[md[i] & 0x0f];
	}
	key_id[16] = '\0';
	explicit_bzero(md, sizeof(md));
}

static int
HexValue(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse 64 hex digits with optional surrounding whitespace into key.
 * Returns false (leaving key wiped) when the text is malformed.
 */
static bool
ParseKey(const char *text, size_t len, unsigned char *key)
{
	size_t		start = 0;
	size_t		end = len;

	while (start < end && isspace((unsigned char) text[start]))
		start++;
	while (end > start && isspace((unsigned char) text[end - 1]))
		end--;
	if (end - start != 2 * AISTUDIO_KEY_LEN)
		return false;
	for (int i = 0; i < AISTUDIO_KEY_LEN; i++)
	{
		int			hi = HexValue(text[start + 2 * i]);
		int			lo = HexValue(text[start + 2 * i + 1]);

		if (hi < 0 || lo < 0)
		{
			explicit_bzero(key, AISTUDIO_KEY_LEN);
			return false;
		}
		key[i] = (unsigned char) ((hi << 4) | lo);
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
		ok = ParseKey(buf, n, slot->key);
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
	ComputeKeyId(slot->key, slot->key_id);
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
	ok = ParseKey(env, strlen(env), current_key.key);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the master key in the environment variable %s is malformed", SECRET_KEY_ENV),
				 errdetail("The key must be exactly 64 hexadecimal digits (32 bytes).")));
	ComputeKeyId(current_key.key, current_key.key_id);
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

	if (strcmp(k->key_id, key_id) == 0)
		return k;
	k = PreviousKey();
	if (k != NULL && strcmp(k->key_id, key_id) == 0)
		return k;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the value was sealed with master key %s, which is not loaded", key_id),
			 errdetail("The current master key is %s.", CurrentKey()->key_id),
			 errhint("Set pg_aistudio.previous_secret_key_file to the file holding key %s and run aistudio.rotate_secret_key().",
					 key_id)));
	return NULL;				/* keep compiler quiet */
}

void
SecretsCurrentKeyId(char *key_id_out)
{
	strlcpy(key_id_out, CurrentKey()->key_id, SECRETS_KEY_ID_SIZE);
}

/*
 * AES-256-GCM encryption of plain into out (len bytes + tag).  Returns false
 * on an OpenSSL failure; the caller raises the error.
 */
static bool
GcmEncrypt(const unsigned char *key, const unsigned char *nonce,
		   const char *aad, const char *plain, int len, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			outl = 0;
	int			finl = 0;
	bool		ok;

	if (ctx == NULL)
		return false;
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AISTUDIO_NONCE_LEN, NULL) == 1 &&
		EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
		EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *) aad, (int) strlen(aad)) == 1 &&
		EVP_EncryptUpdate(ctx, out, &outl, (const unsigned char *) plain, len) == 1 &&
		EVP_EncryptFinal_ex(ctx, out + outl, &finl) == 1 &&
		outl + finl == len &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AISTUDIO_TAG_LEN, out + len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/*
 * AES-256-GCM decryption of in (len bytes + tag) into out.  Returns false
 * when the tag does not authenticate or OpenSSL fails.
 */
static bool
GcmDecrypt(const unsigned char *key, const unsigned char *nonce,
		   const char *aad, const unsigned char *in, int len, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char tag[AISTUDIO_TAG_LEN];
	int			outl = 0;
	int			finl = 0;
	bool		ok;

	if (ctx == NULL)
		return false;
	memcpy(tag, in + len, AISTUDIO_TAG_LEN);
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AISTUDIO_NONCE_LEN, NULL) == 1 &&
		EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
		EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *) aad, (int) strlen(aad)) == 1 &&
		EVP_DecryptUpdate(ctx, out, &outl, in, len) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AISTUDIO_TAG_LEN, tag) == 1 &&
		EVP_DecryptFinal_ex(ctx, out + outl, &finl) == 1 &&
		outl + finl == len;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

void
SecretsSeal(const char *aad, const char *plain, Size len,
			char *key_id_out, bytea **nonce, bytea **ciphertext)
{
	const KeySlot *k = CurrentKey();
	bytea	   *n;
	bytea	   *c;

	if (len > SECRETS_MAX_PLAIN_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value to seal is too long"),
				 errdetail("At most %d bytes can be sealed.", SECRETS_MAX_PLAIN_LEN)));

	n = (bytea *) palloc(VARHDRSZ + AISTUDIO_NONCE_LEN);
	SET_VARSIZE(n, VARHDRSZ + AISTUDIO_NONCE_LEN);
	if (RAND_bytes((unsigned char *) VARDATA(n), AISTUDIO_NONCE_LEN) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random nonce")));

	c = (bytea *) palloc(VARHDRSZ + len + AISTUDIO_TAG_LEN);
	SET_VARSIZE(c, VARHDRSZ + len + AISTUDIO_TAG_LEN);
	if (!GcmEncrypt(k->key, (unsigned char *) VARDATA(n), aad, plain, (int) len,
					(unsigned char *) VARDATA(c)))
	{
		explicit_bzero(VARDATA(c), len + AISTUDIO_TAG_LEN);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not encrypt the value")));
	}
	strlcpy(key_id_out, k->key_id, SECRETS_KEY_ID_SIZE);
	*nonce = n;
	*ciphertext = c;
}

char *
SecretsOpen(const char *aad, const char *key_id, bytea *nonce,
			bytea *ciphertext, Size *len)
{
	const KeySlot *k = KeyById(key_id);
	Size		clen = VARSIZE_ANY_EXHDR(ciphertext);
	Size		plen;
	char	   *plain;

	if (VARSIZE_ANY_EXHDR(nonce) != AISTUDIO_NONCE_LEN ||
		clen < AISTUDIO_TAG_LEN || clen - AISTUDIO_TAG_LEN > SECRETS_MAX_PLAIN_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("sealed value is malformed"),
				 errdetail("A sealed value has a %d-byte nonce and at least a %d-byte tag.",
						   AISTUDIO_NONCE_LEN, AISTUDIO_TAG_LEN)));
	plen = clen - AISTUDIO_TAG_LEN;
	plain = palloc(plen + 1);
	if (!GcmDecrypt(k->key, (const unsigned char *) VARDATA_ANY(nonce), aad,
					(const unsigned char *) VARDATA_ANY(ciphertext), (int) plen,
					(unsigned char *) plain))
	{
		explicit_bzero(plain, plen + 1);
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
