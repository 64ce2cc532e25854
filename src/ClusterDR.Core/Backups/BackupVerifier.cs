using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ClusterDR.Safety;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Test-ClusterBackup's engine: one streaming pass that re-hashes every payload file against the
    /// manifest and runs the platform's own checks. Restores call it before touching anything.
    /// </summary>
    public static class BackupVerifier
    {
        public static ClusterBackup Verify(string path, IOperationContext ctx, string expectedKind = null)
        {
            using (var reader = BackupArchiveReader.Open(path))
            {
                var manifest = reader.Manifest;
                if (expectedKind != null && !string.Equals(manifest.Kind, expectedKind, StringComparison.OrdinalIgnoreCase))
                    throw new ClusterDrException(ErrorIds.WrongBackupKind, ErrorKind.InvalidArgument,
                        $"'{reader.Path}' is a {manifest.Kind} backup, not a {expectedKind} backup.", reader.Path);
                var expected = manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var checksRun = new List<string>();
                long total = manifest.Files.Sum(f => f.Size), done = 0;
                var progress = new ProgressReporter(ctx, "Verifying " + Path.GetFileName(reader.Path), total);
                var buffer = new byte[1 << 16];
                reader.ForEachEntry((name, entry, content) =>
                {
                    Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                    if (entry.IsDirectory) return;
                    if (!expected.TryGetValue(name, out var file))
                        throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData,
                            $"'{reader.Path}' holds '{name}', which its manifest does not list.", reader.Path);
                    if (!seen.Add(name))
                        throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"'{reader.Path}' holds '{name}' twice.", reader.Path);
                    var checks = PayloadChecks.For(manifest, file);
                    using (var hashing = new HashingStream(Stream.Null))
                    {
                        int n;
                        while ((n = content.Read(buffer, 0, buffer.Length)) > 0)
                        {
                            hashing.Write(buffer, 0, n);
                            foreach (var c in checks) c.Sink.Write(buffer, 0, n);
                            done += n;
                            progress.Report(done);
                        }
                        if (hashing.BytesWritten != file.Size || hashing.HashHex() != file.Sha256)
                        {
                            reader.EnsureComplete(); // a cut-off archive is "corrupt", not "changed"
                            throw new ClusterDrException(ErrorIds.PayloadHashMismatch, ErrorKind.InvalidData,
                                $"'{name}' in '{reader.Path}' does not match its manifest (expected {file.Size} bytes, SHA-256 {file.Sha256}; found {hashing.BytesWritten} bytes, SHA-256 {hashing.HashHex()}). The backup is damaged.",
                                reader.Path, surfaceAsIs: true);
                        }
                    }
                    foreach (var c in checks)
                    {
                        c.Complete();
                        checksRun.Add(c.Description);
                    }
                });
                reader.EnsureComplete();
                var missing = expected.Keys.Where(k => !seen.Contains(k)).ToList();
                if (missing.Count > 0)
                    throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.InvalidData,
                        $"'{reader.Path}' lacks {string.Join(", ", missing)}, listed in its manifest: the archive is truncated or incomplete.", reader.Path);
                progress.Complete();
                var result = new ClusterBackup(reader.Path, manifest, new FileInfo(reader.Path).Length)
                {
                    Verified = true,
                    VerifiedUtc = DateTime.UtcNow,
                    Verification = $"{manifest.Files.Count} file(s), {total} bytes: SHA-256 match" +
                                   (checksRun.Count > 0 ? "; " + string.Join("; ", checksRun) : ""),
                };
                return result;
            }
        }
    }
}
