package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One command on its way out.
 *
 * @param args null or a JSON object
 * @param fd   a descriptor to pass with the command, or -1
 */
record QmpRequest(long id, String command, JsonNode args, boolean oob, int fd) {
}
