/* test_profile.c - the profile table and what each profile declares to the config. */
#include <string.h>

#include "config.h"
#include "profile.h"
#include "suites.h"

/* Every profile is found by its own name, under its own enum value, and declares what the run asks. */
START_TEST(test_table_is_consistent)
{
	for (int i = 0; i < PROFILE_COUNT; i++) {
		const struct profile_ops *p = profile_get((enum profile)i);
		enum profile found = PROFILE_COUNT;
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_nonnull(p->name);
		ck_assert_ptr_eq(profile_find(p->name, &found), p);
		ck_assert_int_eq(found, i);
		ck_assert_ptr_nonnull(p->reserved_form);
		/* A form profile reserves at least the token's own field; json takes no form at all. */
		ck_assert(p->reserved_form[0] != NULL || i == PROFILE_JSON);
		ck_assert_ptr_nonnull(p->mass_logout_causes);
		ck_assert_ptr_nonnull(p->build);
		ck_assert_ptr_nonnull(p->judge);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(profile_get((enum profile)j)->name, p->name);
	}
	enum profile untouched = PROFILE_OAUTH2;
	ck_assert_ptr_null(profile_find("Aimharder", &untouched));
	ck_assert_ptr_null(profile_find("", &untouched));
	ck_assert_int_eq(untouched, PROFILE_OAUTH2);
	ck_assert_ptr_eq(profile_get(PROFILE_COUNT), profile_get(PROFILE_AIMHARDER));
	ck_assert_ptr_eq(profile_get(PROFILE_AIMHARDER), &profile_aimharder);
	ck_assert_ptr_eq(profile_get(PROFILE_OAUTH2), &profile_oauth2);
	ck_assert_ptr_eq(profile_get(PROFILE_JSON), &profile_json);
}
END_TEST

/* What the config asks of each profile: its checks, its warning, the roles it uses. */
START_TEST(test_config_hooks)
{
	struct config *cfg = config_new();
	const char *key = NULL;
	ck_assert_ptr_nonnull(cfg);
	const struct profile_ops *a = profile_get(PROFILE_AIMHARDER);
	ck_assert_uint_eq(a->uses, PROFILE_USES_COOKIES | PROFILE_USES_FINGERPRINT);
	ck_assert_int_eq(a->default_form, 1);
	/* The default config: fingerprints come from the rows; upstream.fingerprint is empty. */
	ck_assert_ptr_null(a->check_config(cfg, &key));
	ck_assert_ptr_nonnull(a->warn_config(cfg));
	/* No fingerprint column and none configured: every request would lack one. */
	cfg->database.columns.fingerprint[0] = '\0';
	ck_assert_ptr_nonnull(a->check_config(cfg, &key));
	ck_assert_str_eq(key, "upstream.fingerprint");
	const struct profile_ops *o = profile_get(PROFILE_OAUTH2);
	ck_assert_uint_eq(o->uses, 0);
	ck_assert_int_eq(o->default_form, 0);
	ck_assert_ptr_null(o->warn_config);
	config_free(cfg);
}
END_TEST

START_TEST(test_http_status_transient)
{
	static const long yes[] = { 408, 429, 500, 502, 503, 504 };
	static const long no[] = { 0, 200, 301, 400, 401, 403, 404, 409, 410, 499, 501, 505, 599 };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ck_assert_int_eq(http_status_transient(yes[i]), 1);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		ck_assert_int_eq(http_status_transient(no[i]), 0);
	ck_assert_str_eq(answer_kind_name(ANSWER_LOGOUT), "logout");
	ck_assert_str_eq(answer_kind_name((enum answer_kind)99), "unknown");
}
END_TEST

Suite *profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("profile");
	tcase_add_test(tc, test_table_is_consistent);
	tcase_add_test(tc, test_config_hooks);
	tcase_add_test(tc, test_http_status_transient);
	suite_add_tcase(s, tc);
	return s;
}
