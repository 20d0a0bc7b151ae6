/*
 * policy_eval: a parsed bucket policy against one request (design note 8 of
 * policy.c).
 *
 *   for each statement, in order:
 *       applies = principal ^ NotPrincipal  &&  action ^ NotAction
 *                 && resource ^ NotResource  &&  every condition
 *       Deny and applies         -> AUTH_POLICY_DENY, at once
 *       first Allow that applies -> remembered
 *   AUTH_POLICY_ALLOW if one was remembered, else AUTH_POLICY_NONE
 *
 * Invariants: reads the policy and the request only - no allocation, no
 * locks, no writes but *m - so any number of threads may evaluate one policy.
 * The wildcard matcher costs at most pattern length x subject length, never
 * exponential time: a hostile key cannot make evaluation blow up.
 */
#include <assert.h>
#include <string.h>

#include "policy_int.h"

static int fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Bytes of the UTF-8 character at s (a stray continuation byte is one). */
static size_t char_len(const char *s)
{
    size_t n = 1;

    while (((unsigned char)s[n] & 0xC0) == 0x80)
        n++;
    return n;
}

/* Classic single-backtrack glob: on a mismatch, the last '*' absorbs one
 * more character of s and matching resumes after it. */
int auth__pol_glob(const char *pat, const char *s, int icase)
{
    const char *star = NULL, *resume = NULL;

    while (*s != '\0') {
        if (*pat == '*') {
            star = ++pat;
            resume = s;
        } else if (*pat == '?') {
            pat++;
            s += char_len(s);
        } else if (*pat != '\0' && (icase ? fold((unsigned char)*pat) == fold((unsigned char)*s) : *pat == *s)) {
            pat++;
            s++;
        } else if (star != NULL) {
            pat = star;
            resume += char_len(resume);
            s = resume;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

static int principal_matches(const pol_principal *pp, const auth_policy_req *r)
{
    size_t i, j;

    if (pp->any)
        return 1;
    if (r->user == NULL)
        return 0;
    for (i = 0; i < pp->n_users; i++)
        if (strcmp(pp->users[i], r->user) == 0)
            return 1;
    for (i = 0; i < pp->n_groups; i++)
        for (j = 0; j < r->n_groups; j++)
            if (r->groups[j] != NULL && strcmp(pp->groups[i], r->groups[j]) == 0)
                return 1;
    return 0;
}

static int any_glob(const char *const *pats, size_t n, const char *s, int icase)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (auth__pol_glob(pats[i], s, icase))
            return 1;
    return 0;
}

static int statement_applies(const pol_stmt *st, const auth_policy_req *r)
{
    size_t i;

    if (principal_matches(&st->principal, r) == st->not_principal)
        return 0;
    if (any_glob(st->actions, st->n_actions, r->action, 1) == st->not_action)
        return 0;
    if (any_glob(st->resources, st->n_resources, r->resource, 0) == st->not_resource)
        return 0;
    for (i = 0; i < st->n_conds; i++)
        if (!auth__pol_cond_eval(&st->conds[i], r))
            return 0;
    return 1;
}

auth_policy_effect auth_policy_eval(const auth_policy *p, const auth_policy_req *r, auth_policy_match *m)
{
    auth_policy_effect effect = AUTH_POLICY_NONE;
    auth_policy_req anon;
    size_t i, decided = 0;

    assert(r != NULL && r->action != NULL && r->resource != NULL);
    if (r->user != NULL && r->user[0] == '\0') {
        anon = *r; /* auth_result.principal is "" when anonymous */
        anon.user = NULL;
        r = &anon;
    }
    for (i = 0; p != NULL && i < p->n_stmts; i++) {
        const pol_stmt *st = &p->stmts[i];
        if ((st->deny || effect == AUTH_POLICY_NONE) && statement_applies(st, r)) {
            decided = i;
            effect = st->deny ? AUTH_POLICY_DENY : AUTH_POLICY_ALLOW;
            if (st->deny)
                break;
        }
    }
    if (m != NULL) {
        m->statement = effect == AUTH_POLICY_NONE ? -1 : (int)decided;
        m->sid = effect == AUTH_POLICY_NONE ? NULL : p->stmts[decided].sid;
    }
    return effect;
}
