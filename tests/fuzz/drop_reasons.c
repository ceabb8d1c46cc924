// SPDX-License-Identifier: GPL-2.0-only
/* The drop reason names flows copies from the kernel's BTF: any bytes as
 * raw BTF through libbpf's btf__new() (which checks it) into the same copy,
 * then names looked up. */
#include <bpf/btf.h>
#include "flows_session.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct btf *btf = btf__new(data, size);
	int copied;

	if (!btf)
		return 0;
	copied = drop_reasons_copy(btf);
	btf__free(btf);	/* the names were copied: they outlive the BTF */
	/* Each look-up reads the whole table; with none copied it would read
	 * the kernel's BTF instead. */
	for (uint32_t value = 1; copied && value <= 64; value++)
		drop_reason_name(value);
	return 0;
}
