package io.qvirt.launcher.image;

import io.qvirt.launcher.plan.ImageFormat;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The content-addressed image cache every VM on the machine shares, and pulling into it:
 * <pre>
 * ROOT/blobs/sha256/HEX                       manifests and layers as the registry sent them, verified, 0444
 * ROOT/refs/REGISTRY/REPOSITORY/_tags/TAG     the manifest digest a tag was last resolved to
 * ROOT/refs/REGISTRY/REPOSITORY/_digests/HEX  the linux/amd64 manifest digest of a pinned digest (an index's)
 * ROOT/images/sha256/MANIFEST-HEX/PATH        files taken out of the image's layers (the disk, kernel, initrd), 0444
 * ROOT/images/sha256/MANIFEST-HEX/.disk       which file under /disk/ is the disk, and its format
 * ROOT/tmp/, ROOT/locks/                      work files (renamed into place), per-manifest lock files
 * </pre>
 * Everything is written to {@code tmp/} and renamed into place, so a crash or a concurrent pull never leaves
 * a half-written file where a finished one is expected; taking files out of an image holds the manifest's
 * lock file, so two launchers do not do the same work twice.
 */
public final class ImageStore {
    public static final Path DEFAULT_ROOT = Path.of("/var/lib/qvirt/images");
    private static final Duration LOCK_WAIT = Duration.ofMinutes(10);
    private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    /** Receives progress while layers download (the terminal display), or does nothing. */
    public interface Progress extends RegistryClient.Progress {
        void begin(String image, long totalBytes);

        void end();
    }

    /**
     * An image resolved to one linux/amd64 manifest.
     *
     * @param name     the image as the spec names it
     * @param ref      its parsed reference
     * @param policy   the pull policy it was resolved with
     * @param manifest its manifest
     * @param endpoint the registry asked (the mirror when one is used), or null if the cache answered
     */
    public record Image(String name, ImageReference ref, PullPolicy policy, Manifest manifest, String endpoint) {
        /** Bytes of all its layers. */
        public long size() {
            return manifest.layers().stream().mapToLong(Descriptor::size).sum();
        }

        public boolean fromCache() {
            return endpoint == null;
        }
    }

    /** A base disk taken out of an image: the file and its format. */
    public record Disk(Path path, ImageFormat format) {
    }

    private final Path root;
    private final RegistryClient client;
    private final Progress progress;
    private final AtomicLong downloaded = new AtomicLong();
    private final long maxLayerBytes;

    /** {@value #MAX_LAYER_ENV}: bytes (or with a K, M, G, T suffix, powers of 1024); unset or 0 for the default. */
    public static final String MAX_LAYER_ENV = "QVIRT_MAX_LAYER_SIZE";

    static long maxLayerBytesFromEnvironment() {
        String v = System.getenv(MAX_LAYER_ENV);
        if (v == null || v.isBlank()) {
            return 0;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,15})([KMGT]?)i?B?").matcher(v.strip());
        if (!m.matches()) {
            throw new ImageException.Cache(null, MAX_LAYER_ENV + "='" + v + "' is not allowed: bytes, e.g. 20G", null);
        }
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        return Long.parseLong(m.group(1)) << shift;
    }

    /**
     * @param root     the cache directory (made if absent)
     * @param progress download display, or null for none
     * @throws ImageException.Cache if the cache directory cannot be made
     */
    public ImageStore(Path root, RegistryClient client, Progress progress) {
        this(root, client, progress, maxLayerBytesFromEnvironment());
    }

    /**
     * @param maxLayerBytes the most bytes one layer may decompress to (a compression bomb fails cleanly past it);
     *                      0 for the default: the free space of the cache's file system when the layer is read
     */
    public ImageStore(Path root, RegistryClient client, Progress progress, long maxLayerBytes) {
        this.maxLayerBytes = maxLayerBytes;
        this.root = root.toAbsolutePath();
        this.client = client;
        this.progress = progress;
        try {
            for (String d : List.of("blobs/sha256", "refs", "images/sha256", "tmp", "locks")) {
                Files.createDirectories(this.root.resolve(d));
            }
        } catch (IOException e) {
            throw new ImageException.Cache(null, "cannot use the image cache " + this.root + ": " + e
                    + " (choose another with --image-cache DIR or QVIRT_IMAGE_CACHE)", e);
        }
        sweepTmp();
    }

    public Path root() {
        return root;
    }

    /** Bytes fetched from registries so far by this store. */
    public long downloadedBytes() {
        return downloaded.get();
    }

    /**
     * Resolves an image to its manifest as {@code policy} says: IfNotPresent and Never use the cache if it
     * knows the tag or digest (no network); Always asks the registry for a tag's current manifest (a digest
     * cannot change, so a cached one is used).
     *
     * @param name as the spec names it (already validated as a reference)
     * @throws ImageException.NotCached policy Never and the image is not cached
     */
    public Image resolve(String name, PullPolicy policy) {
        ImageReference ref = ImageReference.parse(name);
        if (policy != PullPolicy.ALWAYS || ref.pinned()) {
            Manifest m = cachedManifest(ref);
            if (m != null) {
                return new Image(name, ref, policy, m, null);
            }
            if (policy == PullPolicy.NEVER) {
                throw new ImageException.NotCached(name, "imagePullPolicy is Never and the image is not in the cache " + root);
            }
        }
        Manifest m = client.manifest(ref);
        try {
            writeAtomically(blob(m.digest()), m.raw(), true);
            writeAtomically(refFile(ref), m.digest().getBytes(StandardCharsets.US_ASCII), false);
        } catch (IOException e) {
            throw new ImageException.Cache(name, "cannot write to the image cache " + root + ": " + e, e);
        }
        return new Image(name, ref, policy, m, client.endpoint(ref));
    }

    /**
     * The image's disk as KubeVirt finds it: the file at {@code path} if given, else the one regular file
     * directly under {@code /disk/} after the layers are applied in order (whiteouts remove earlier files).
     *
     * @throws ImageException.MissingContent no such file, no disk, or more than one file under /disk/
     */
    public Disk disk(Image img, String path) {
        if (path != null && !path.isBlank()) {
            Path f = files(img, List.of(path)).get(path);
            return new Disk(f, ImageFormat.detect(f));
        }
        Path dir = imageDir(img);
        Disk known = knownDisk(dir);
        if (known != null) {
            return known;
        }
        return locked(img, () -> {
            Disk again = knownDisk(dir);
            if (again != null) {
                return again;
            }
            Path staging = staging(img);
            try {
                Map<String, Path> found = extract(img, n -> n.startsWith("disk/") && n.indexOf('/', 5) < 0 && n.length() > 5, staging);
                if (found.isEmpty()) {
                    throw new ImageException.MissingContent(img.name(), img.endpoint(), "no disk in the image: a containerDisk "
                            + "holds one disk file (qcow2 or raw) under /disk/");
                }
                if (found.size() > 1) {
                    throw new ImageException.MissingContent(img.name(), img.endpoint(), "more than one file under /disk/ ("
                            + String.join(", ", found.keySet().stream().map(s -> "/" + s).toList())
                            + "): name one with containerDisk.path");
                }
                String rel = found.keySet().iterator().next();
                Path dest = place(found.get(rel), dir.resolve(rel));
                ImageFormat fmt = ImageFormat.detect(dest);
                writeAtomically(dir.resolve(".disk"), (rel + "\n" + fmt.qemuName() + "\n").getBytes(StandardCharsets.UTF_8), false);
                return new Disk(dest, fmt);
            } catch (IOException e) {
                throw new ImageException.Cache(img.name(), "cannot write to the image cache " + root + ": " + e, e);
            } finally {
                deleteTree(staging);
            }
        });
    }

    /**
     * Files of the image by absolute path in it (e.g. {@code /boot/vmlinuz}), taken out of its layers once
     * and kept read-only in the cache.
     *
     * @throws ImageException.MissingContent naming the first path the image does not hold as a regular file
     */
    public Map<String, Path> files(Image img, List<String> paths) {
        Path dir = imageDir(img);
        Map<String, Path> out = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String p : paths) {
            Path f = dir.resolve(TarReader.normalize(p));
            if (!f.normalize().startsWith(dir) || TarReader.normalize(p).isEmpty()) {
                throw new ImageException.MissingContent(img.name(), img.endpoint(), "'" + p + "' is not a file path in the image");
            }
            out.put(p, f);
            if (!Files.isRegularFile(f)) {
                missing.add(p);
            }
        }
        if (missing.isEmpty()) {
            return out;
        }
        return locked(img, () -> {
            List<String> still = missing.stream().filter(p -> !Files.isRegularFile(out.get(p))).toList();
            if (still.isEmpty()) {
                return out;
            }
            List<String> wanted = still.stream().map(TarReader::normalize).toList();
            Path staging = staging(img);
            try {
                Map<String, Path> found = extract(img, wanted::contains, staging);
                for (String p : still) {
                    Path s = found.get(TarReader.normalize(p));
                    if (s == null) {
                        throw new ImageException.MissingContent(img.name(), img.endpoint(), "no file " + p
                                + " in the image (as a regular file, after applying its layers)");
                    }
                    place(s, out.get(p));
                }
                return out;
            } catch (IOException e) {
                throw new ImageException.Cache(img.name(), "cannot write to the image cache " + root + ": " + e, e);
            } finally {
                deleteTree(staging);
            }
        });
    }

    // ---- layers ----

    /**
     * Applies the image's layers in order into {@code staging}, keeping only regular files whose path
     * (relative, e.g. {@code disk/disk.qcow2}) {@code wanted} accepts; whiteouts remove earlier ones.
     */
    private Map<String, Path> extract(Image img, Predicate<String> wanted, Path staging) throws IOException {
        Files.createDirectories(staging);
        List<Descriptor> layers = img.manifest().layers();
        long missingBytes = 0;
        for (Descriptor d : layers) {
            if (!Files.exists(blob(d.digest()))) {
                missingBytes += d.size();
            }
        }
        if (missingBytes > 0 && progress != null) {
            progress.begin(img.name(), missingBytes);
        }
        List<Path> layerFiles = new ArrayList<>();
        try {
            for (Descriptor d : layers) {
                layerFiles.add(layer(img, d));
            }
        } finally {
            if (missingBytes > 0 && progress != null) {
                progress.end();
            }
        }
        Map<String, Path> staged = new LinkedHashMap<>();
        int seq = 0;
        for (int i = 0; i < layers.size(); i++) {
            Descriptor d = layers.get(i);
            MessageDigest sha = RegistryClient.sha256();
            long limit = layerLimit();
            try (InputStream raw = new DigestInputStream(Files.newInputStream(layerFiles.get(i)), sha)) {
                BoundedStream tarStream = new BoundedStream(decompress(img, d, new BufferedInputStream(raw, 1 << 16)), limit);
                TarReader tar = new TarReader(tarStream);
                TarReader.Entry e;
                while ((e = tar.next()) != null) {
                    String n = e.path();
                    checkEntry(img, d, e);
                    int slash = n.lastIndexOf('/');
                    String base = n.substring(slash + 1);
                    String parent = slash < 0 ? "" : n.substring(0, slash + 1);
                    if (base.equals(".wh..wh..opq")) {
                        staged.keySet().removeIf(k -> k.startsWith(parent) && !k.equals(parent));
                        continue;
                    }
                    if (base.startsWith(".wh.")) {
                        String gone = parent + base.substring(4);
                        staged.keySet().removeIf(k -> k.equals(gone) || k.startsWith(gone + "/"));
                        continue;
                    }
                    if (!wanted.test(n)) {
                        continue;
                    }
                    if (e.isFile()) {
                        Path dest = staging.resolve(Integer.toString(seq++));
                        Files.copy(e.content(), dest);
                        staged.put(n, dest);
                    } else {
                        // A directory, link or device where a file is wanted hides any earlier file.
                        staged.remove(n);
                    }
                }
                // Read to the end so the digest covers every byte of the blob.
                raw.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (ImageException ex) {
                throw ex;
            } catch (BoundedStream.Exceeded ex) {
                throw new ImageException.Unsafe(img.name(), img.endpoint(), "layer " + d.digest() + " decompresses to more "
                        + "than " + limit + " bytes (" + limitSource() + "); refused", ex);
            } catch (IOException ex) {
                throw new ImageException.Protocol(img.name(), img.endpoint(), "layer " + d.digest() + " is not a readable "
                        + "tar archive: " + ex.getMessage(), ex);
            }
            String got = "sha256:" + HexFormat.of().formatHex(sha.digest());
            if (!got.equals(d.digest())) {
                Files.deleteIfExists(layerFiles.get(i));
                throw new ImageException.DigestMismatch(img.name(), img.endpoint(), d.digest(), "cached blob " + d.digest()
                        + " has content " + got + " (corrupted on disk; removed, the next start fetches it again)");
            }
        }
        return staged;
    }

    /** The most one layer may decompress to now: the configured bound, else the cache's free space. */
    private long layerLimit() {
        if (maxLayerBytes > 0) {
            return maxLayerBytes;
        }
        try {
            return Math.max(1 << 20, Files.getFileStore(root).getUsableSpace());
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    private String limitSource() {
        return maxLayerBytes > 0 ? "the configured limit" : "the free space of the cache's file system; set "
                + MAX_LAYER_ENV + " to choose another limit";
    }

    /**
     * Refuses, naming it, an entry whose path climbs out of the image ({@code ../}, also after a leading
     * {@code /}), a hard link whose target does, a symbolic link whose relative target climbs above the image's
     * root from the link's directory (an absolute target is resolved in the image's own root, and qvirt never
     * follows links: only regular files are taken out), and a whiteout that names no file in its directory.
     */
    private static void checkEntry(Image img, Descriptor d, TarReader.Entry e) {
        String n = e.path();
        if (climbs("", n)) {
            throw unsafe(img, d, e, "its path leaves the image");
        }
        if (e.type() == '1' && (e.linkTarget() == null || climbs("", TarReader.normalize(e.linkTarget())))) {
            throw unsafe(img, d, e, "a hard link to '" + e.linkTarget() + "', outside the image");
        }
        if (e.type() == '2') {
            String t = e.linkTarget() == null ? "" : e.linkTarget();
            int slash = n.lastIndexOf('/');
            String dir = slash < 0 ? "" : n.substring(0, slash);
            if (!t.startsWith("/") && climbs(dir, t)) {
                throw unsafe(img, d, e, "a symbolic link to '" + t + "', outside the image");
            }
        }
        String base = n.substring(n.lastIndexOf('/') + 1);
        if (base.startsWith(".wh.") && !base.equals(".wh..wh..opq")) {
            String gone = base.substring(4);
            if (gone.isEmpty() || gone.equals(".") || gone.equals("..") || gone.contains("/")) {
                throw unsafe(img, d, e, "a whiteout of '" + gone + "', which is not a file of its directory");
            }
        }
    }

    /** Whether {@code rel}, read from directory {@code dir} (both relative to the image root), goes above the root. */
    static boolean climbs(String dir, String rel) {
        int depth = 0;
        for (String part : dir.split("/")) {
            if (!part.isEmpty() && !part.equals(".")) {
                depth = part.equals("..") ? depth - 1 : depth + 1;
            }
        }
        if (depth < 0) {
            return true;
        }
        for (String part : rel.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            depth = part.equals("..") ? depth - 1 : depth + 1;
            if (depth < 0) {
                return true;
            }
        }
        return false;
    }

    private static ImageException.Unsafe unsafe(Image img, Descriptor d, TarReader.Entry e, String why) {
        return new ImageException.Unsafe(img.name(), img.endpoint(), "layer " + d.digest() + ", entry '" + e.rawPath()
                + "': " + why + "; the image is refused", null);
    }

    /** Counts what a layer decompresses to and stops past a bound. */
    private static final class BoundedStream extends java.io.FilterInputStream {
        static final class Exceeded extends IOException {
            private static final long serialVersionUID = 1L;

            Exceeded() {
                super("decompressed size over the limit");
            }
        }

        private final long limit;
        private long count;

        BoundedStream(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0 && ++count > limit) {
                throw new Exceeded();
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int k = super.read(b, off, len);
            if (k > 0 && (count += k) > limit) {
                throw new Exceeded();
            }
            return k;
        }

        @Override
        public long skip(long n) throws IOException {
            // Skipped bytes are decompressed all the same: count them by reading.
            byte[] buf = new byte[8192];
            long left = n;
            while (left > 0) {
                int k = read(buf, 0, (int) Math.min(buf.length, left));
                if (k < 0) {
                    break;
                }
                left -= k;
            }
            return n - left;
        }
    }

    private static InputStream decompress(Image img, Descriptor d, BufferedInputStream in) throws IOException {
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GZIPInputStream(in, 1 << 16);
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            throw new ImageException.Protocol(img.name(), img.endpoint(), "layer " + d.digest() + " is zstd-compressed ("
                    + d.mediaType() + "): qvirt reads tar and tar+gzip layers", null);
        }
        return in;
    }

    /** The layer's blob in the cache, fetched (and verified) if it is not there yet. */
    private Path layer(Image img, Descriptor d) {
        Path p = blob(d.digest());
        if (Files.exists(p)) {
            return p;
        }
        if (img.policy() == PullPolicy.NEVER) {
            throw new ImageException.NotCached(img.name(), "imagePullPolicy is Never and layer " + d.digest()
                    + " is not in the cache " + root);
        }
        long room = layerLimit();
        if (d.size() > room) {
            throw new ImageException.Unsafe(img.name(), img.endpoint(), "layer " + d.digest() + " declares " + d.size()
                    + " bytes, more than " + room + " (" + limitSource() + "); not downloaded", null);
        }
        Path tmp = root.resolve("tmp").resolve(d.hex() + "." + UUID.randomUUID() + ".partial");
        ImageReference ref = img.ref();
        client.blob(ref, d, tmp, progress);
        try {
            readOnly(tmp);
            moveIntoPlace(tmp, p);
        } catch (IOException e) {
            throw new ImageException.Cache(img.name(), "cannot write to the image cache " + root + ": " + e, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                // Swept with tmp/ later.
            }
        }
        downloaded.addAndGet(d.size());
        return p;
    }

    // ---- cache files ----

    private Manifest cachedManifest(ImageReference ref) {
        try {
            Path rf = refFile(ref);
            if (!Files.isRegularFile(rf)) {
                return null;
            }
            String digest = Files.readString(rf, StandardCharsets.US_ASCII).strip();
            if (!Manifest.DIGEST.matcher(digest).matches()) {
                return null;
            }
            byte[] raw = Files.readAllBytes(blob(digest));
            if (!("sha256:" + RegistryClient.sha256(raw)).equals(digest)) {
                return null;
            }
            return Manifest.parse(digest, raw, Manifest.json(raw));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            // An unreadable or foreign entry is treated as absent: the registry is asked again.
            return null;
        }
    }

    private Disk knownDisk(Path dir) {
        try {
            List<String> meta = Files.readAllLines(dir.resolve(".disk"), StandardCharsets.UTF_8);
            if (meta.size() < 2) {
                return null;
            }
            Path f = dir.resolve(meta.get(0));
            if (!f.normalize().startsWith(dir) || !Files.isRegularFile(f)) {
                return null;
            }
            return new Disk(f, meta.get(1).equals("qcow2") ? ImageFormat.QCOW2 : ImageFormat.RAW);
        } catch (IOException e) {
            return null;
        }
    }

    private Path blob(String digest) {
        return root.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
    }

    private Path refFile(ImageReference ref) {
        Path repo = root.resolve("refs").resolve(ref.registry()).resolve(ref.repository());
        return ref.pinned() ? repo.resolve("_digests").resolve(ref.digest().substring(7)) : repo.resolve("_tags").resolve(ref.tag());
    }

    private Path imageDir(Image img) {
        return root.resolve("images/sha256").resolve(img.manifest().digest().substring(7));
    }

    private Path staging(Image img) {
        return root.resolve("tmp").resolve(img.manifest().digest().substring(7, 19) + "." + UUID.randomUUID());
    }

    /** Moves a staged file to its final, read-only place. */
    private Path place(Path staged, Path dest) throws IOException {
        Files.createDirectories(dest.getParent());
        readOnly(staged);
        moveIntoPlace(staged, dest);
        return dest;
    }

    private void writeAtomically(Path dest, byte[] data, boolean keepExisting) throws IOException {
        if (keepExisting && Files.exists(dest)) {
            return;
        }
        Files.createDirectories(dest.getParent());
        Path tmp = root.resolve("tmp").resolve(dest.getFileName() + "." + UUID.randomUUID());
        try {
            Files.write(tmp, data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            readOnly(tmp);
            moveIntoPlace(tmp, dest);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void moveIntoPlace(Path tmp, Path dest) throws IOException {
        try {
            Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the cache must be on one filesystem (rename " + tmp + " -> " + dest + ")", e);
        } catch (FileAlreadyExistsException e) {
            // Another launcher placed the same content-addressed file first.
        }
    }

    private static void readOnly(Path p) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("r--r--r--"));
    }

    /** Holds the manifest's lock (this JVM's threads and other processes) while {@code body} runs. */
    private <T> T locked(Image img, Supplier<T> body) {
        String key = img.manifest().digest().substring(7);
        Path lockFile = root.resolve("locks").resolve(key + ".lock");
        ReentrantLock jvm = JVM_LOCKS.computeIfAbsent(lockFile, k -> new ReentrantLock());
        long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
        try {
            if (!jvm.tryLock(LOCK_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ImageException.Cache(img.name(), "the cache lock " + lockFile + " was held for more than "
                        + LOCK_WAIT.toMinutes() + " min", null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException.Cache(img.name(), "interrupted while waiting for " + lockFile, e);
        }
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock;
            while ((lock = ch.tryLock()) == null) {
                if (System.nanoTime() > deadline) {
                    throw new ImageException.Cache(img.name(), "another process held the cache lock " + lockFile
                            + " for more than " + LOCK_WAIT.toMinutes() + " min", null);
                }
                Thread.sleep(100);
            }
            try {
                return body.get();
            } finally {
                lock.release();
            }
        } catch (IOException e) {
            throw new ImageException.Cache(img.name(), "cannot lock " + lockFile + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException.Cache(img.name(), "interrupted while waiting for " + lockFile, e);
        } finally {
            jvm.unlock();
        }
    }

    /** Removes work files left by crashed pulls (older than a day, so no running pull loses its own). */
    private void sweepTmp() {
        Instant cutoff = Instant.now().minus(Duration.ofDays(1));
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root.resolve("tmp"))) {
            for (Path p : ds) {
                FileTime t = Files.getLastModifiedTime(p);
                if (t.toInstant().isBefore(cutoff)) {
                    deleteTree(p);
                }
            }
        } catch (IOException e) {
            // Only housekeeping.
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // Left for the sweep of tmp/.
        }
    }
}
