/*-------------------------------------------------------------------------
 * src/password.c
 *		Password hashing for application users: scrypt (OpenSSL
 *		EVP_PBE_scrypt, N=2^14, r=8, p=1, 16-byte random salt, 32-byte hash)
 *		and constant-time verification.  Owns the SQL functions
 *		aistudio.hash_password (internal) and aistudio.verify_password
 *		(for gatewayd's login).
 *
 * Stored form: $scrypt$ln=14,r=8,p=1$<salt base64>$<hash base64>.  The
 * parameters are read back from the stored form, so stronger parameters can
 * be introduced later without invalidating existing hashes.
 *
 * verify_password spends one scrypt computation whatever the outcome
 * (unknown email, inactive user, no password, wrong password), so its
 * timing does not reveal which emails exist.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "password.h"

PG_FUNCTION_INFO_V1(aistudio_hash_password);
PG_FUNCTION_INFO_V1(aistudio_verify_password);

#define SCRYPT_LN		14
#define SCRYPT_R		8
#define SCRYPT_P		1
#define SCRYPT_SALT_LEN 16
#define SCRYPT_HASH_LEN 32
#define SCRYPT_MAXMEM	((uint64) 64 * 1024 * 1024)
#define SCRYPT_MAX_PART 64		/* largest salt or hash accepted when parsing */

/* Parameters and bytes of a stored hash. */
typedef struct ScryptHash
{
	int			ln;
	int			r;
	int			p;
	int			salt_len;
	int			hash_len;
	uint8		salt[SCRYPT_MAX_PART];
	uint8		hash[SCRYPT_MAX_PART];
} ScryptHash;

/* Run scrypt; raises an internal error when OpenSSL refuses. */
static void
Scrypt(const char *password, Size len, const uint8 *salt, int salt_len,
	   int ln, int r, int p, uint8 *out, int out_len)
{
	if (EVP_PBE_scrypt(password, len, salt, salt_len, (uint64) 1 << ln,
					   (uint64) r, (uint64) p, SCRYPT_MAXMEM, out, out_len) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the scrypt hash of the password")));
}

/* Decode a base64 part of at most SCRYPT_MAX_PART bytes; -1 if malformed. */
static int
DecodePart(const char *src, int len, uint8 *dst)
{
	char		buf[SCRYPT_MAX_PART + 8];

	if (len <= 0 || pg_b64_dec_len(len) > (int) sizeof(buf))
		return -1;
	len = pg_b64_decode(src, len, buf, sizeof(buf));
	if (len <= 0 || len > SCRYPT_MAX_PART)
		return -1;
	memcpy(dst, buf, len);
	return len;
}

/* Parse the stored form into h; false when malformed or out of bounds. */
static bool
ParseStored(const char *stored, ScryptHash *h)
{
	int			consumed = -1;
	const char *salt;
	const char *sep;

	if (sscanf(stored, "$scrypt$ln=%d,r=%d,p=%d$%n", &h->ln, &h->r, &h->p, &consumed) != 3 ||
		consumed < 0)
		return false;
	if (h->ln < 1 || h->ln > 20 || h->r < 1 || h->r > 32 || h->p < 1 || h->p > 16)
		return false;
	salt = stored + consumed;
	sep = strchr(salt, '$');
	if (sep == NULL)
		return false;
	h->salt_len = DecodePart(salt, sep - salt, h->salt);
	h->hash_len = DecodePart(sep + 1, strlen(sep + 1), h->hash);
	return h->salt_len >= 8 && h->hash_len >= 16;
}

char *
PasswordHash(const char *password, Size len)
{
	uint8		salt[SCRYPT_SALT_LEN];
	uint8		hash[SCRYPT_HASH_LEN];
	char		salt64[64];
	char		hash64[64];
	int			s,
				h;

	if (len > PASSWORD_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password is too long"),
				 errdetail("A password may have at most %d bytes.", PASSWORD_MAX_BYTES)));
	if (pg_mbstrlen_with_len(password, (int) len) < PASSWORD_MIN_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password is too short"),
				 errdetail("A password must have at least %d characters.", PASSWORD_MIN_CHARS)));

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random salt")));
	Scrypt(password, len, salt, sizeof(salt), SCRYPT_LN, SCRYPT_R, SCRYPT_P, hash, sizeof(hash));

	s = pg_b64_encode((const char *) salt, sizeof(salt), salt64, sizeof(salt64) - 1);
	h = pg_b64_encode((const char *) hash, sizeof(hash), hash64, sizeof(hash64) - 1);
	explicit_bzero(hash, sizeof(hash));
	if (s < 0 || h < 0)
		elog(ERROR, "could not encode the password hash");
	salt64[s] = '\0';
	hash64[h] = '\0';
	return psprintf("$scrypt$ln=%d,r=%d,p=%d$%s$%s", SCRYPT_LN, SCRYPT_R, SCRYPT_P, salt64, hash64);
}

void
PasswordDummyWork(const char *password, Size len)
{
	static const uint8 salt[SCRYPT_SALT_LEN] = {0};
	uint8		hash[SCRYPT_HASH_LEN];

	Scrypt(password, Min(len, PASSWORD_MAX_BYTES), salt, sizeof(salt),
		   SCRYPT_LN, SCRYPT_R, SCRYPT_P, hash, sizeof(hash));
	explicit_bzero(hash, sizeof(hash));
}

bool
PasswordVerify(const char *stored, const char *password, Size len)
{
	ScryptHash	h;
	uint8		computed[SCRYPT_MAX_PART];
	bool		match;

	if (stored == NULL || !ParseStored(stored, &h) ||
		(uint64) 128 * h.r * ((uint64) 1 << h.ln) * h.p > SCRYPT_MAXMEM / 2)
	{
		PasswordDummyWork(password, len);
		return false;
	}
	Scrypt(password, len, h.salt, h.salt_len, h.ln, h.r, h.p, computed, h.hash_len);
	match = CRYPTO_memcmp(computed, h.hash, h.hash_len) == 0;
	explicit_bzero(computed, sizeof(computed));
	return match;
}

/* aistudio.hash_password(password text) -> text (internal) */
Datum
aistudio_hash_password(PG_FUNCTION_ARGS)
{
	text	   *pw = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(PasswordHash(VARDATA_ANY(pw), VARSIZE_ANY_EXHDR(pw))));
}

/*
 * aistudio.verify_password(email text, password text) -> bigint
 *
 * The id of the active user with this email (case-insensitive) whose
 * password matches; NULL otherwise.
 */
Datum
aistudio_verify_password(PG_FUNCTION_ARGS)
{
	text	   *email = PG_GETARG_TEXT_PP(0);
	text	   *pw = PG_GETARG_TEXT_PP(1);
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {PointerGetDatum(email)};
	int64		user_id = 0;
	char	   *stored = NULL;
	bool		usable = false;
	bool		match;

	SPI_connect();
	if (SPI_execute_with_args("SELECT id, password_hash, active FROM aistudio.users"
							  " WHERE lower(email) = lower($1)",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the user");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		user_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		d = SPI_getbinval(tup, desc, 3, &isnull);
		usable = !isnull && DatumGetBool(d);
		stored = SPI_getvalue(tup, desc, 2);	/* NULL when no password */
		if (stored != NULL)
		{
			/* copy out of the SPI context before SPI_finish */
			char	   *copy = SPI_palloc(strlen(stored) + 1);

			strcpy(copy, stored);
			stored = copy;
		}
	}
	SPI_finish();

	if (!usable)
		stored = NULL;			/* same work, never a match */
	match = PasswordVerify(stored, VARDATA_ANY(pw), VARSIZE_ANY_EXHDR(pw));
	if (!match)
		PG_RETURN_NULL();
	PG_RETURN_INT64(user_id);
}
