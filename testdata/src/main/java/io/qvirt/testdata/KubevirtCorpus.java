package io.qvirt.testdata;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The KubeVirt compatibility corpus beside the checkout ({@code ../shared/kubevirt-corpus/}), as the corpus tests
 * read it: each collection's {@code INDEX.tsv}, what its files need and do not hold ({@code testdata/corpus-needs.yaml}),
 * and what only a library or the JVM would write in an answer.
 */
public final class KubevirtCorpus {
    /** What only a library or the JVM would write: never in qvirt's answer to a manifest. */
    public static final Pattern LEAK = Pattern.compile("com\\.fasterxml|org\\.yaml|io\\.fabric8|io\\.qvirt|java\\.lang|"
            + "java\\.util|Cannot coerce|Cannot construct|Cannot deserialize|Creator|CoercionConfig|\\[Source|"
            + "StreamReadConstraints|Exception|reference chain|\tat ");

    /**
     * One line of an INDEX.
     *
     * @param collection {@code kubevirt-examples} or {@code others}
     * @param columns    the line's tab-separated columns (the first is the file's name)
     */
    public record Entry(String collection, Path file, String[] columns) {
        public String key() {
            return collection + "/" + columns[0];
        }
    }

    private KubevirtCorpus() {
    }

    public static Path dir() {
        return TestGuest.projectRoot().resolveSibling("shared").resolve("kubevirt-corpus");
    }

    /** The instancetypes and preferences the corpus's files name and do not hold (namespaced ones in default). */
    public static Path needs() {
        return TestGuest.projectRoot().resolve("testdata/corpus-needs.yaml");
    }

    /** Every entry of {@code collection}'s INDEX.tsv, comments and blank lines left out. */
    public static List<Entry> entries(String collection) throws IOException {
        List<Entry> out = new ArrayList<>();
        Path d = dir().resolve(collection);
        for (String line : Files.readAllLines(d.resolve("INDEX.tsv"), StandardCharsets.UTF_8)) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] c = line.split("\t");
            out.add(new Entry(collection, d.resolve(c[0]), c));
        }
        return out;
    }
}
