package io.qvirt.api;

/**
 * A manifest that cannot be read as a KubeVirt VM or VMI: a YAML/JSON syntax error, a missing or
 * unknown kind, an apiVersion KubeVirt does not serve, a value of the wrong type. The message names the
 * source, the document and, where known, the line and column (1-based).
 */
public class ManifestException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;
    private final int column;

    public ManifestException(String source, int line, int column, String message, Throwable cause) {
        super(source + (line > 0 ? ":" + line + (column > 0 ? ":" + column : "") : "") + ": " + message, cause);
        this.source = source;
        this.line = line;
        this.column = column;
    }

    public ManifestException(String source, int line, int column, String message) {
        this(source, line, column, message, null);
    }

    /** The file name or the source name given to {@code loadString}. */
    public String source() {
        return source;
    }

    /** 1-based line, or 0 when unknown. */
    public int line() {
        return line;
    }

    /** 1-based column, or 0 when unknown. */
    public int column() {
        return column;
    }
}
