package io.qvirt.testdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** testdata/registry.sh against a real docker-registry on 127.0.0.1 and real skopeo. */
class RegistryScriptIT {
    @TempDir
    Path dir;

    @Test
    void pushesContainerDiskAndKernelImagesThatTheRegistryServes() throws Exception {
        TestGuest.get();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path script = TestGuest.projectRoot().resolve("testdata/registry.sh");
        try {
            run(script.toString(), "start", "--port", "" + port, "--dir", dir.toString());
            String pushed = run(script.toString(), "push", "--port", "" + port);
            assertTrue(pushed.contains("qvirt/guest:latest"), pushed);

            ObjectMapper json = new ObjectMapper();
            HttpClient http = HttpClient.newHttpClient();
            JsonNode tags = json.readTree(get(http, port, "/v2/qvirt/guest/tags/list"));
            assertEquals("latest", tags.path("tags").path(0).asText(), tags.toString());

            JsonNode manifest = json.readTree(get(http, port, "/v2/qvirt/guest/manifests/latest"));
            assertEquals(1, manifest.path("layers").size(), "a containerDisk is one layer: " + manifest);
            String inspect = run("skopeo", "inspect", "--tls-verify=false",
                    "docker://127.0.0.1:" + port + "/qvirt/kernel:latest");
            assertTrue(inspect.contains("\"Architecture\": \"amd64\""), inspect);
        } finally {
            run(script.toString(), "stop", "--dir", dir.toString());
        }
    }

    private static String get(HttpClient http, int port, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Accept", "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json")
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return r.body();
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }
}
