package io.qvirt.operator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.KubevirtJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The repository's {@code manifests/} folder as the operator's jar carries it (the same files {@code render.sh}
 * renders): {@code crds/*.yml}, {@code install/*.yaml} and {@code instancetypes/*.yaml} (the common instancetypes and
 * preferences), read once, in file-name order, with the placeholders
 * {@code ${QVIRT_REGISTRY}} and {@code ${QVIRT_TAG}} substituted as render.sh does. (render.sh's
 * {@code ${QVIRT_USE_EMULATION}} is only in the KubeVirt CR's file, which the operator does not install: the CR's
 * {@code spec.configuration} is read live by virt-api, virt-controller and virt-handler.)
 */
final class Templates {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(QVIRT_[A-Z_]+)}");
    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

    /** File name -> text, for each directory, in order. */
    private final Map<String, Map<String, String>> files = new TreeMap<>();

    private Templates() {
    }

    /** The templates on the class path (the operator's jar, or target/classes in a build). */
    static Templates fromClassPath() {
        Templates t = new Templates();
        for (String dir : List.of("crds", "install", "instancetypes")) {
            t.files.put(dir, read("manifests/" + dir));
        }
        return t;
    }

    /**
     * Every object of {@code dir} ({@code crds}, {@code install} or {@code instancetypes}), rendered with {@code values} (without the
     * {@code QVIRT_} prefix: {@code REGISTRY}, {@code TAG}).
     *
     * @throws IllegalStateException if a placeholder has no value
     */
    List<ObjectNode> render(String dir, Map<String, String> values) {
        List<ObjectNode> out = new ArrayList<>();
        files.get(dir).forEach((name, text) -> {
            Matcher m = PLACEHOLDER.matcher(text);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                String v = values.get(m.group(1).substring("QVIRT_".length()));
                if (v == null) {
                    throw new IllegalStateException(dir + "/" + name + ": no value for ${" + m.group(1) + "}");
                }
                m.appendReplacement(sb, Matcher.quoteReplacement(v));
            }
            m.appendTail(sb);
            for (String doc : DOCUMENT_SEPARATOR.split(sb)) {
                if (doc.lines().allMatch(l -> l.isBlank() || l.stripLeading().startsWith("#"))) {
                    continue;
                }
                try {
                    JsonNode node = KubevirtJson.yaml().readTree(doc);
                    out.add((ObjectNode) node);
                } catch (IOException e) {
                    throw new UncheckedIOException(dir + "/" + name + ": " + e.getMessage(), e);
                }
            }
        });
        return out;
    }

    private static Map<String, String> read(String resourceDir) {
        URL url = Templates.class.getClassLoader().getResource(resourceDir);
        if (url == null) {
            throw new IllegalStateException(resourceDir + " is not on the class path (the operator jar carries manifests/)");
        }
        Map<String, String> out = new TreeMap<>();
        try {
            if ("jar".equals(url.getProtocol())) {
                // JarFile (java.base), not the zip file system: the images' jlink'd runtime has no jdk.zipfs.
                JarURLConnection conn = (JarURLConnection) url.openConnection();
                conn.setUseCaches(false);
                try (JarFile jar = conn.getJarFile()) {
                    for (JarEntry e : java.util.Collections.list(jar.entries())) {
                        String n = e.getName();
                        if (!e.isDirectory() && n.startsWith(resourceDir + "/") && n.indexOf('/', resourceDir.length() + 1) < 0
                                && (n.endsWith(".yaml") || n.endsWith(".yml"))) {
                            try (InputStream in = jar.getInputStream(e)) {
                                out.put(n.substring(resourceDir.length() + 1), new String(in.readAllBytes(), StandardCharsets.UTF_8));
                            }
                        }
                    }
                }
            } else {
                try (Stream<Path> s = Files.list(Path.of(url.toURI()))) {
                    for (Path p : s.toList()) {
                        String n = p.getFileName().toString();
                        if (n.endsWith(".yaml") || n.endsWith(".yml")) {
                            out.put(n, Files.readString(p, StandardCharsets.UTF_8));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }
}
