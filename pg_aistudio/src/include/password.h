/*-------------------------------------------------------------------------
 * src/include/password.h
 *		scrypt password hashing for application users (see src/password.c).
 *
 * Stored form: $scrypt$ln=14,r=8,p=1$<salt base64>$<hash base64>
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_PASSWORD_H
#define AISTUDIO_PASSWORD_H

#include "postgres.h"

#define PASSWORD_MIN_CHARS 12	/* characters, not bytes */
#define PASSWORD_MAX_BYTES 1024

/*
 * Check the length rules and hash password[0..len) with a fresh salt.
 * Returns the palloc'd stored form; raises 22023 for a too short or too long
 * password.
 */
extern char *PasswordHash(const char *password, Size len);

/*
 * Does password[0..len) match the stored form?  Compares in constant time;
 * a malformed stored form never matches (but costs the same work).
 */
extern bool PasswordVerify(const char *stored, const char *password, Size len);

/* Spend the work of one verification without a stored hash. */
extern void PasswordDummyWork(const char *password, Size len);

#endif							/* AISTUDIO_PASSWORD_H */
