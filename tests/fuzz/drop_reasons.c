// SPDX-License-Identifier: GPL-2.0-only
/* The drop reason names flows copies from the kernel's BTF: any bytes as
 * raw BTF through libbpf's btf__new() (which checks it) into the same copy,
 * then every name looked up. */
#include "../../src/flows_session.c"
#include "fuzz.h"

static void forget_drop_reasons(void)
{
	for (int i = 0; i < n_reasons; i++)
		free(reasons[i].name);
	free(reasons);
	reasons = NULL;
	n_reasons = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct btf *btf = btf__new(data, size);

	if (!btf)
		return 0;
	copy_drop_reasons(btf);
	btf__free(btf);	/* the names were copied: they outlive the BTF */
	for (int i = 0; i < n_reasons; i++)
		drop_reason_name(reasons[i].value);
	forget_drop_reasons();
	return 0;
}
