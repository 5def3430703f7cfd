package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One entry of {@code query-block}.
 *
 * @param inserted the medium's details (file, format, ro, ...), or null when empty
 * @param raw      the whole entry, for fields not mapped here
 */
public record BlockInfo(String device, String qdev, boolean removable, boolean locked, JsonNode inserted,
                        JsonNode raw) {
}
