// SPDX-License-Identifier: GPL-2.0-only
/* The hook tables against the BPF objects, without loading anything (no
 * privileges needed): every entry of a command's table names a program of
 * its object, and every program of an object is in the table of a command
 * that uses it. `sockeye features` reports from the tables, and a command
 * loads by them: a program missing from every table would be loaded by no
 * command and shown by none. */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "test.h"
#include "helpers.h"
#include "sockeye.h"
#include "options.h"
#include "programs.h"

static const struct command *const watching[] = { WATCH_COMMANDS };
#define N_WATCHING (sizeof(watching) / sizeof(watching[0]))

static bool in_table(const struct program_set *set, const char *prog)
{
	for (size_t i = 0; i < set->n_hooks; i++)
		if (!strcmp(set->hooks[i].prog, prog))
			return true;
	return false;
}

/* Whether a command sharing set's object has prog in its table. */
static bool in_some_table(const struct program_set *set, const char *prog)
{
	for (size_t i = 0; i < N_WATCHING; i++) {
		const struct program_set *other = watching[i]->programs;

		if (other->elf_bytes == set->elf_bytes && in_table(other, prog))
			return true;
	}
	return false;
}

TEST(programs_every_hook_names_a_program_of_its_object)
{
	int wrong = 0;

	for (size_t i = 0; i < N_WATCHING; i++) {
		const struct program_set *set = watching[i]->programs;
		struct bpf_object *obj;

		if (!ASSERT_TRUE(set != NULL, watching[i]->name))
			return;
		obj = open_program_set(set);
		if (!ASSERT_TRUE(obj != NULL, "the object opens"))
			return;
		for (size_t h = 0; h < set->n_hooks; h++)
			if (!bpf_object__find_program_by_name(obj, set->hooks[h].prog)) {
				printf("    %s: no program %s in its object\n", set->cmd,
				       set->hooks[h].prog);
				wrong++;
			}
		bpf_object__close(obj);
	}
	ASSERT_EQ(wrong, 0, "hooks without a program");
}

TEST(programs_every_program_is_in_a_hook_table)
{
	int wrong = 0;

	for (size_t i = 0; i < N_WATCHING; i++) {
		const struct program_set *set = watching[i]->programs;
		struct bpf_object *obj = open_program_set(set);
		struct bpf_program *prog;

		if (!ASSERT_TRUE(obj != NULL, "the object opens"))
			return;
		bpf_object__for_each_program(prog, obj)
			if (!in_some_table(set, bpf_program__name(prog))) {
				printf("    %s: program %s is in no command's table\n", set->cmd,
				       bpf_program__name(prog));
				wrong++;
			}
		bpf_object__close(obj);
	}
	ASSERT_EQ(wrong, 0, "programs no table names");
}
