package io.qvirt.launcher.cli;

import io.qvirt.launcher.image.DockerConfig;
import io.qvirt.launcher.image.ImageConfig;
import io.qvirt.launcher.image.ImageResolver;
import io.qvirt.launcher.image.ImageStore;
import io.qvirt.launcher.image.RegistryClient;
import io.qvirt.launcher.image.RegistryOptions;
import io.qvirt.launcher.image.TerminalProgress;
import io.qvirt.launcher.runtime.Log;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Option;

/** Where images come from and where they are kept: the options {@code run} and {@code exec} share (a picocli mixin). */
final class ImageOptions {
    static final String CACHE_ENV = "QVIRT_IMAGE_CACHE";

    @Option(names = "--image-cache", paramLabel = "DIR", description = "the image cache all VMs share (default: "
            + "--image-config's cacheDir, else $" + CACHE_ENV + ", else /var/lib/qvirt/images)")
    Path cache;

    @Option(names = "--registry-mirror", paramLabel = "SRC=DST", description = "pull images of registry SRC from "
            + "DST instead (repeatable), e.g. quay.io=127.0.0.1:5000; docker.io names Docker Hub")
    List<String> mirrors = new ArrayList<>();

    @Option(names = "--insecure-registry", paramLabel = "HOST[:PORT]", description = "speak plain HTTP to this "
            + "registry (repeatable; no port: every port). No registry is insecure unless named, not even 127.0.0.1")
    List<String> insecure = new ArrayList<>();

    @Option(names = "--registry-config", paramLabel = "FILE", description = "registry credentials: a Docker "
            + "config.json (auths.HOST.auth = base64 user:password, or username and password)")
    Path registryConfig;

    @Option(names = "--image-config", paramLabel = "FILE", description = "YAML or JSON with keys mirrors "
            + "(SRC: DST), insecure (list), registryConfig, cacheDir; flags add to it and win")
    Path imageConfig;

    /** The checked settings. */
    record Settings(Path cacheDir, RegistryOptions registry) {
    }

    /**
     * Checks every flag and file; nothing is made or contacted.
     *
     * @throws IllegalArgumentException naming the flag (or the file and key) and what is allowed
     */
    Settings settings() {
        ImageConfig cfg = ImageConfig.EMPTY;
        if (imageConfig != null) {
            requireFile("--image-config", imageConfig);
            cfg = ImageConfig.load(imageConfig, "--image-config");
        }
        Map<String, String> m = new LinkedHashMap<>(cfg.mirrors());
        for (String s : mirrors) {
            Map.Entry<String, String> e = RegistryOptions.parseMirror("--registry-mirror", s);
            m.put(e.getKey(), e.getValue());
        }
        Set<String> in = new LinkedHashSet<>(cfg.insecure());
        for (String s : insecure) {
            in.add(RegistryOptions.parseHost("--insecure-registry", s));
        }
        DockerConfig creds = DockerConfig.EMPTY;
        if (registryConfig != null) {
            requireFile("--registry-config", registryConfig);
            creds = DockerConfig.load(registryConfig, "--registry-config");
        } else if (cfg.registryConfig() != null) {
            requireFile("--image-config: " + imageConfig + ": registryConfig", cfg.registryConfig());
            creds = DockerConfig.load(cfg.registryConfig(), "--image-config: " + imageConfig + ": registryConfig");
        }
        Path dir = cache;
        if (dir == null) {
            dir = cfg.cacheDir();
        }
        if (dir == null) {
            String env = System.getenv(CACHE_ENV);
            dir = env != null && !env.isBlank() ? Path.of(env) : ImageStore.DEFAULT_ROOT;
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--image-cache: " + dir + " exists and is not a directory");
        }
        RegistryOptions d = RegistryOptions.DEFAULTS;
        return new Settings(dir, new RegistryOptions(m, in, creds, d.connectTimeout(), d.requestTimeout(), d.stallTimeout()));
    }

    /**
     * A resolver over the shared cache (opened only for a VM that names an image); download progress on
     * {@code err} only when the launcher runs on a terminal.
     */
    static ImageResolver resolver(Settings s, Log log, PrintWriter err) {
        ImageStore.Progress progress = System.console() != null ? new TerminalProgress(err) : null;
        return new ImageResolver(() -> new ImageStore(s.cacheDir(), new RegistryClient(s.registry()), progress), log);
    }

    private static void requireFile(String flag, Path f) {
        if (!Files.isRegularFile(f) || !Files.isReadable(f)) {
            throw new IllegalArgumentException(flag + ": " + f + " does not exist or is not a readable file");
        }
    }
}
