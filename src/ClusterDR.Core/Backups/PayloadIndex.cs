using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Newtonsoft.Json;

namespace ClusterDR.Backups
{
    /// <summary>
    /// manifest.json's "index" section. Payload files under <see cref="Roots"/> (the Deis store's objects: 100,000 of
    /// them is ordinary) are not listed in manifest.json, which would grow past what a listing should read; they are
    /// listed, one JSON line each ({"path","size","sha256"}, in archive order), in the payload file <see cref="Path"/>,
    /// which manifest.json lists, hashes and sizes like any other. The manifest keeps only the totals.
    /// </summary>
    public sealed class PayloadIndexInfo
    {
        [JsonProperty("path")] public string Path { get; set; }
        /// <summary>Path prefixes, each ending in '/': every payload file under one of them is listed in the index, no other.</summary>
        [JsonProperty("roots")] public List<string> Roots { get; set; } = new List<string>();
        [JsonProperty("files")] public long Files { get; set; }
        [JsonProperty("bytes")] public long Bytes { get; set; }
        /// <summary>Tar bytes (headers and padded content) of the indexed entries, and the slack their names may add: a listing proves the archive's length with them.</summary>
        [JsonProperty("tarBytes")] public long TarBytes { get; set; }
        [JsonProperty("tarSlack")] public long TarSlack { get; set; }
    }

    /// <summary>The rules of the payload index, in one place: which files it covers, its line format, and its checks.</summary>
    public static class PayloadIndex
    {
        /// <summary>The archive format version of a backup that carries an index (older readers refuse it by its version, not by a confusing "unlisted entry").</summary>
        public const int FormatVersion = 2;

        public static bool Covers(PayloadIndexInfo index, string path)
        {
            if (index == null) return false;
            foreach (var r in index.Roots) if (path.StartsWith(r, StringComparison.Ordinal)) return true;
            return false;
        }

        /// <summary>The manifest's index section is sound: its file is listed in the manifest and lies outside its roots; no listed file lies inside them.</summary>
        internal static void Validate(BackupManifest m, string archive)
        {
            var ix = m.Index;
            if (ix == null) return;
            ClusterDrException Bad(string why) => new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData, $"The manifest of '{archive}' is damaged: {why}.", archive);
            if (m.FormatVersion < FormatVersion) throw Bad($"it has a payload index, which archive format version {m.FormatVersion} does not know");
            if (string.IsNullOrEmpty(ix.Path) || ix.Roots == null || ix.Roots.Count == 0 || ix.Files < 0 || ix.Bytes < 0 || ix.TarBytes < 0 || ix.TarSlack < 0)
                throw Bad("its payload index section is incomplete");
            ix.Path = ArchivePaths.Normalize(ix.Path);
            foreach (var r in ix.Roots)
                if (string.IsNullOrEmpty(r) || !r.EndsWith("/", StringComparison.Ordinal) || ArchivePaths.Normalize(r) + "/" != r)
                    throw Bad($"'{r}' is not a folder of the archive");
            if (Covers(ix, ix.Path)) throw Bad("its payload index lies inside the folders it indexes");
            if (!m.Files.Any(f => f.Path == ix.Path)) throw Bad($"it does not list its payload index {ix.Path}");
            var inside = m.Files.FirstOrDefault(f => Covers(ix, f.Path));
            if (inside != null) throw Bad($"it lists {inside.Path}, which its payload index covers");
        }

        internal static string Line(ManifestFile f) => JsonConvert.SerializeObject(f, Formatting.None);

        /// <summary>One line of an index, checked: a damaged index is ManifestInvalid, in operator terms.</summary>
        internal static ManifestFile Parse(string line, long number, PayloadIndexInfo ix, string archive)
        {
            ManifestFile f = null;
            try { f = JsonConvert.DeserializeObject<ManifestFile>(line); }
            catch (JsonException) { }
            bool ok = f != null && f.Path != null && f.Size >= 0 && f.Sha256 != null && f.Sha256.Length == 64 && f.Sha256.All(Uri.IsHexDigit);
            if (ok)
            {
                try { ok = ArchivePaths.Normalize(f.Path) == f.Path && Covers(ix, f.Path); }
                catch (ClusterDrException) { ok = false; }
            }
            if (!ok)
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData,
                    $"The payload index {ix.Path} of '{archive}' is damaged at line {number}: it is not a file of the folders it indexes with its size and SHA-256.", archive);
            return f;
        }

        /// <summary>
        /// Every payload file a backup holds, with size and SHA-256: manifest.json's and, for a backup with an index, the
        /// index's (read to the end of the archive, one line at a time; not verified: Test-ClusterBackup does that).
        /// </summary>
        public static IEnumerable<ManifestFile> ReadFiles(Stores.BackupLocation archivePath)
        {
            BackupManifest m;
            var copy = new TempLines("index");
            try
            {
                using (var reader = BackupArchiveReader.Open(archivePath))
                {
                    m = reader.Manifest;
                    if (m.Index != null) reader.ForEachEntry((name, entry, content) => { if (name == m.Index.Path) content.CopyTo(copy.Raw, 1 << 16); });
                }
            }
            catch
            {
                copy.Dispose();
                throw;
            }
            using (var index = new PayloadIndexFile(copy, m.Index, archivePath.Display))
            {
                foreach (var f in m.Files) yield return f;
                if (m.Index != null) foreach (var f in index.Files()) yield return f;
            }
        }
    }

    /// <summary>
    /// A private temporary file (0600, deleted when closed) of text lines, written once and then read as often as needed,
    /// one pass at a time: what would be a list of every file or object is kept here, so memory stays flat.
    /// </summary>
    internal sealed class TempLines : IDisposable
    {
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);
        private readonly FileStream _file;
        private readonly StreamWriter _writer;

        public TempLines(string purpose)
        {
            string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"clusterdr-{purpose}-{Guid.NewGuid():N}");
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.DeleteOnClose);
            FileModes.TrySetOwnerOnly(path);
            _writer = new StreamWriter(_file, Utf8, 1 << 16) { NewLine = "\n" };
        }

        public void Add(string line) => _writer.WriteLine(line);

        /// <summary>The file itself, for bytes that come as they are (an index payload read from an archive).</summary>
        public Stream Raw { get { _writer.Flush(); return _file; } }

        public long Length { get { _writer.Flush(); return _file.Length; } }

        public IEnumerable<string> Lines()
        {
            _writer.Flush();
            _file.Position = 0;
            using (var r = new StreamReader(_file, Utf8, false, 1 << 16, leaveOpen: true))
            {
                string line;
                while ((line = r.ReadLine()) != null) yield return line;
            }
        }

        public void CopyTo(Stream to)
        {
            _writer.Flush();
            _file.Position = 0;
            _file.CopyTo(to, 1 << 16);
        }

        public void Dispose() => _file.Dispose();
    }

    /// <summary>
    /// Collects the index lines of a backup being written, in archive order (memory stays flat whatever the file count),
    /// and adds them as the index payload when the backup is committed.
    /// </summary>
    internal sealed class PayloadIndexWriter : IDisposable
    {
        private readonly TempLines _lines = new TempLines("index");
        private long _slack;

        public PayloadIndexWriter(string path, IEnumerable<string> roots)
        {
            Info = new PayloadIndexInfo { Path = ArchivePaths.Normalize(path), Roots = roots.ToList() };
        }

        public PayloadIndexInfo Info { get; }

        public bool Covers(string path) => PayloadIndex.Covers(Info, path);

        /// <summary>Called while the entry still holds the archive, so the lines are in the archive's order.</summary>
        public void Record(ManifestFile f)
        {
            _lines.Add(PayloadIndex.Line(f));
            Info.Files++;
            Info.Bytes += f.Size;
            Info.TarBytes += BackupArchiveReader.Header(f.Path, ref _slack) + BackupArchiveReader.Round(f.Size);
        }

        /// <summary>Adds the index payload (streamed: its length is known) and its section to <paramref name="manifest"/>.</summary>
        public void Finish(BackupArchiveWriter writer, BackupManifest manifest)
        {
            Info.TarSlack = _slack;
            writer.AddStreamedPayload(Info.Path, sink =>
            {
                sink.DeclareLength(_lines.Length);
                _lines.CopyTo(sink);
            });
            manifest.Index = Info;
            manifest.FormatVersion = Math.Max(manifest.FormatVersion, PayloadIndex.FormatVersion);
        }

        public void Dispose() => _lines.Dispose();
    }

    /// <summary>
    /// The verifier's side: the indexed entries of the archive as they stream past (name, size, SHA-256) and the index
    /// payload itself, compared line by line once the archive is read. On success the verified index can be kept for a
    /// restore (<see cref="Keep"/>), which then checks each entry against it again.
    /// </summary>
    internal sealed class PayloadIndexCheck : IDisposable
    {
        private readonly PayloadIndexInfo _ix;
        private readonly string _archive;
        private readonly TempLines _seen = new TempLines("seen");
        private TempLines _index = new TempLines("index");

        public PayloadIndexCheck(PayloadIndexInfo ix, string archive) { _ix = ix; _archive = archive; }

        public bool Covers(string name) => PayloadIndex.Covers(_ix, name);

        /// <summary>Receives the index payload's bytes.</summary>
        public Stream Sink => _index.Raw;

        public void Observe(string name, long size, string sha256) =>
            _seen.Add(PayloadIndex.Line(new ManifestFile { Path = name, Size = size, Sha256 = sha256 }));

        public string Description => $"{_ix.Files} file(s) listed in {_ix.Path}: SHA-256 match";

        /// <summary>Every indexed entry read is the one the index lists at its place, with its size and SHA-256; the totals are the manifest's.</summary>
        public void Complete()
        {
            using (var seen = _seen.Lines().GetEnumerator())
            using (var index = _index.Lines().GetEnumerator())
            {
                long n = 0, bytes = 0;
                while (true)
                {
                    var got = seen.MoveNext() ? JsonConvert.DeserializeObject<ManifestFile>(seen.Current) : null;
                    var want = index.MoveNext() ? PayloadIndex.Parse(index.Current, n + 1, _ix, _archive) : null;
                    if (got == null && want == null) break;
                    if (want == null)
                        throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"'{_archive}' holds '{got.Path}', which its index {_ix.Path} does not list.", _archive);
                    if (got == null)
                        throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.InvalidData, $"'{_archive}' lacks {want.Path}, listed in its index {_ix.Path}: the archive is truncated or incomplete.", _archive);
                    if (got.Path != want.Path)
                        throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"'{_archive}' holds '{got.Path}' where its index {_ix.Path} lists '{want.Path}': entries are missing, added or out of order.", _archive);
                    if (got.Size != want.Size || got.Sha256 != want.Sha256)
                        throw Mismatch(_archive, want, got.Size, got.Sha256, "its index " + _ix.Path);
                    n++;
                    bytes += want.Size;
                }
                if (n != _ix.Files || bytes != _ix.Bytes)
                    throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData,
                        $"The index {_ix.Path} of '{_archive}' lists {n} file(s) of {bytes} bytes; its manifest says {_ix.Files} of {_ix.Bytes}.", _archive);
            }
        }

        /// <summary>The verified index, now owned by the caller.</summary>
        public PayloadIndexFile Keep()
        {
            var kept = new PayloadIndexFile(_index, _ix, _archive);
            _index = null;
            return kept;
        }

        /// <summary>PayloadHashMismatch in the words of the verifier: which file, what was expected, what was found.</summary>
        internal static ClusterDrException Mismatch(string archive, ManifestFile want, long size, string sha256, string listedIn) =>
            new ClusterDrException(ErrorIds.PayloadHashMismatch, ErrorKind.InvalidData,
                $"'{want.Path}' in '{archive}' does not match {listedIn} (expected {want.Size} bytes, SHA-256 {want.Sha256}; found {size} bytes, SHA-256 {sha256}). The backup is damaged.",
                archive, surfaceAsIs: true);

        public void Dispose()
        {
            _seen.Dispose();
            _index?.Dispose();
        }
    }

    /// <summary>
    /// A backup's payload index in a private temporary file, for a restore that reads the archive again after verifying it:
    /// its lines are in archive order, so <see cref="Expect"/> follows the archive and nothing per file is held in memory.
    /// </summary>
    public sealed class PayloadIndexFile : IDisposable
    {
        private readonly TempLines _lines;
        private readonly PayloadIndexInfo _ix;
        private readonly string _archive;
        private IEnumerator<ManifestFile> _next;

        internal PayloadIndexFile(TempLines lines, PayloadIndexInfo ix, string archive) { _lines = lines; _ix = ix; _archive = archive; }

        /// <summary>Every file the index lists, in archive order (a fresh pass each time; not while <see cref="Expect"/> is in use).</summary>
        public IEnumerable<ManifestFile> Files()
        {
            long n = 0;
            foreach (var line in _lines.Lines()) yield return PayloadIndex.Parse(line, ++n, _ix, _archive);
        }

        public bool Covers(string name) => PayloadIndex.Covers(_ix, name);

        /// <summary>The index's next file, which must be <paramref name="name"/>: entries are read in archive order, as the verification proved them.</summary>
        public ManifestFile Expect(string name)
        {
            if (_next == null) _next = Files().GetEnumerator();
            if (!_next.MoveNext() || _next.Current.Path != name)
                throw new ClusterDrException(ErrorIds.PayloadHashMismatch, ErrorKind.InvalidData,
                    $"'{_archive}' changed after it was verified: '{name}' is not the entry its index {_ix.Path} lists next.", _archive, surfaceAsIs: true);
            return _next.Current;
        }

        /// <summary>After the archive's last entry: every file of the index was read (the archive did not lose one since it was verified).</summary>
        public void EnsureAllRead()
        {
            if (_next == null) _next = Files().GetEnumerator();
            if (_next.MoveNext())
                throw new ClusterDrException(ErrorIds.PayloadHashMismatch, ErrorKind.InvalidData,
                    $"'{_archive}' changed after it was verified: it lacks '{_next.Current.Path}', which its index {_ix.Path} lists.", _archive, surfaceAsIs: true);
        }

        public void Dispose()
        {
            _next?.Dispose();
            _lines.Dispose();
        }
    }
}
