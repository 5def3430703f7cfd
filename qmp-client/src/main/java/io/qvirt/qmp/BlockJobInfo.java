package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One entry of {@code query-block-jobs}.
 *
 * @param device the job's id (QEMU calls it {@code device} for historical reasons)
 * @param type   e.g. {@code mirror}, {@code stream}, {@code commit}, {@code backup}
 * @param len    bytes to process (may grow while the guest writes)
 * @param offset bytes processed
 * @param ready  a mirror has copied everything once and now only mirrors new writes
 * @param status the job's JobStatus, e.g. {@code running}, {@code ready}, {@code concluded}
 * @param raw    the whole entry
 */
public record BlockJobInfo(String device, String type, long len, long offset, boolean ready, String status,
                           JsonNode raw) {
}
