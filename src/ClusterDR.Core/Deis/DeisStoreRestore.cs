using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Amazon.S3;
using Amazon.S3.Model;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Transport;

namespace ClusterDR.Deis
{
    public sealed class DeisStoreRestoreRequest
    {
        public Stores.BackupLocation BackupPath { get; set; }
        public DeisS3Options S3 { get; set; } = new DeisS3Options();
        public DeisNodeOptions Nodes { get; set; } = new DeisNodeOptions();
        public IRemoteShell StoreShell { get; set; }
        public IRemoteShell DatabaseShell { get; set; }
        public IRemoteShell ControllerShell { get; set; }
        public bool RestoreVolume { get; set; } = true;
        public bool RestoreDatabase { get; set; }
        public bool ReSave { get; set; }
        public bool Force { get; set; }
    }

    /// <summary>
    /// Restore-DeisStore's engine: verify the archive, prove the keys, list what the target buckets hold,
    /// guard (target buckets empty unless -Force), then one ShouldProcess step each: create the missing
    /// buckets, upload the objects (parallel, in parts above PartSize, each checked by HEAD against its
    /// size and ETag), untar the volume with owners, load the SQL dump, re-save keys/apps/domains on the
    /// controller. Under -Force an object with the same key and content is kept, one with other content
    /// is first copied server-side to &lt;bucket&gt;/clusterdr-moved-aside/&lt;UTC stamp&gt;/&lt;key&gt;
    /// (RestoreResult.MovedAside). When anything fails, the S3 side is put back exactly as it was: the
    /// objects the restore created are deleted, the overwritten ones copied back, the buckets it created
    /// deleted; objects that were there and not overwritten are never touched.
    /// </summary>
    public static class DeisStoreRestore
    {
        public static DeisRestoreResult Run(DeisStoreRestoreRequest req, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            var clock = Stopwatch.StartNew();
            var started = DateTime.UtcNow;
            var ct = ctx.Cancellation;
            var backup = BackupVerifier.Verify(req.BackupPath, ctx, DeisStore.Kind, out var verifiedIndex);
            using var index = verifiedIndex;
            var m = backup.Manifest;
            var s3o = req.S3;
            var buckets = (m.Fact("buckets") ?? "").Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries);
            if ((string.IsNullOrEmpty(s3o.AccessKey) || s3o.SecretKey == null) && req.StoreShell != null)
                DeisStore.ReadKeysFromNode(req.StoreShell, req.Nodes, s3o, ct);
            bool hasVolume = m.Files.Any(f => f.Path == DeisStore.VolumePayload);
            bool hasDb = m.Files.Any(f => f.Path == DeisStore.DatabasePayload);
            if (req.RestoreVolume && hasVolume && req.StoreShell == null)
                throw new ClusterDrException(ErrorIds.InvalidNode, ErrorKind.InvalidArgument, "The backup holds the store volume: give -Node or -SshSession (a store node), or -SkipVolume.");
            if (req.RestoreDatabase && !hasDb)
                throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.InvalidArgument, $"'{backup.Path}' holds no database dump (it was taken without -IncludeDatabase).", backup.Path);
            var dbShell = req.DatabaseShell ?? req.StoreShell;
            if (req.RestoreDatabase && dbShell == null)
                throw new ClusterDrException(ErrorIds.InvalidNode, ErrorKind.InvalidArgument, "-IncludeDatabase needs -DatabaseNode, -Node or -SshSession.");
            if (req.ReSave && req.ControllerShell == null)
                throw new ClusterDrException(ErrorIds.InvalidNode, ErrorKind.InvalidArgument, "-ReSave needs -ControllerNode.");

            var parts = new List<DeisRestorePart>();
            var result = new DeisRestoreResult { Platform = DeisStore.Platform, Cluster = backup.Cluster, BackupPath = backup.Path, StartedUtc = started };
            using (var s3 = DeisStore.Client(s3o))
            {
                // Keys and guard first: nothing is written with wrong keys or onto a store that holds data.
                var existing = new HashSet<string>(DeisStore.S3(s3o, "Listing buckets", () => s3.ListBucketsAsync(ct)).Buckets?.Select(b => b.BucketName) ?? Enumerable.Empty<string>());
                // What the target buckets hold now: the undo puts exactly this back, and -Force never loses an object it overwrites.
                var before = new Dictionary<string, Dictionary<string, S3Object>>();
                foreach (var b in buckets.Where(existing.Contains))
                    before[b] = DeisStoreBackup.List(s3, s3o, b, ct).ToDictionary(x => x.Key, StringComparer.Ordinal);
                var full = before.Where(kv => kv.Value.Count > 0).Select(kv => kv.Key).ToList();
                // One pass over the objects' list (the index file, for a backup that has one): nothing per object is kept.
                int objectCount = 0, clashes = 0;
                long objectBytes = 0;
                foreach (var f in ObjectFiles(m, index))
                {
                    objectCount++;
                    objectBytes += f.Size;
                    if (DeisStore.TryParseArchiveName(f.Path, out var b, out var k) && before.TryGetValue(b, out var held) && held.ContainsKey(k)) clashes++;
                }
                string aside = DeisStore.MovedAsidePrefix + UtcStamp.Of(started) + "/";
                if (before.Values.Any(held => held.Keys.Any(k => k.StartsWith(aside, StringComparison.Ordinal))))
                    aside = DeisStore.MovedAsidePrefix + UtcStamp.Of(started) + "-" + Guid.NewGuid().ToString("N").Substring(0, 6) + "/";
                if (full.Count > 0)
                {
                    string msg = $"The target store already holds data in bucket(s) {string.Join(", ", full)} at {s3o.GatewayUri} ({before.Values.Sum(h => h.Count)} object(s), {clashes} with a key the backup holds); a restore would mix the backup into it.";
                    QuorumGuard.Refuse(ErrorIds.StoreNotEmpty, ErrorKind.ResourceExists, msg, req.Force, ctx, s3o.GatewayUri,
                        withForce: $"objects with the same content are kept, objects with different content are first copied to <bucket>/{aside}<key>", nothingChanged: true,
                    recommendedAction: "Restore into a new, empty store, or pass -Force to restore over what it holds (changed objects are copied aside first).");
                }

                // The store volume: what it holds now is moved aside inside it, never overwritten.
                int volumeEntries = 0;
                string volumeAside = ".clusterdr-moved-aside-" + UtcStamp.Of(started), volumeFailed = ".clusterdr-failed-" + UtcStamp.Of(started);
                if (req.RestoreVolume && hasVolume)
                {
                    volumeEntries = CountEntries(req.StoreShell, req.Nodes.StoreDir, ct);
                    if (volumeEntries > 0)
                    {
                        string msg = $"The store volume {req.Nodes.StoreDir} on {req.StoreShell.Node} is not empty ({volumeEntries} entries); a restore would mix the backup into it.";
                        QuorumGuard.Refuse(ErrorIds.StoreNotEmpty, ErrorKind.ResourceExists, msg, req.Force, ctx, req.StoreShell.Node,
                            withForce: $"what it holds is first moved into {req.Nodes.StoreDir}/{volumeAside}/", nothingChanged: true,
                    recommendedAction: "Restore onto an empty store volume, or pass -Force to move what it holds aside first.");
                    }
                }

                string gw = s3o.GatewayUri.ToString();
                var plan = new Plan(ctx, "Restore-DeisStore", ErrorIds.RestoreFailed);
                using var journal = new DeisRestoreJournal();
                var undone = new List<string>();
                void Undone(string what) { undone.Add(what); plan.SetState(gw, "as before the restore: " + string.Join("; ", undone)); }
                var missing = buckets.Where(b => !existing.Contains(b)).ToList();
                if (missing.Count == 0) parts.Add(new DeisRestorePart { Name = "buckets", Items = 0 });
                else plan.Add(gw, $"Create bucket(s) {string.Join(", ", missing)}" + (missing.Count < buckets.Length ? $" ({string.Join(", ", buckets.Except(missing))} exist already)" : ""), () =>
                {
                    try
                    {
                        foreach (var b in missing)
                        {
                            DeisStore.S3(s3o, $"Creating bucket {b}", () => s3.PutBucketAsync(new PutBucketRequest { BucketName = b }, ct));
                            journal.CreatedBucket(b);
                        }
                    }
                    catch
                    {
                        using (CancellationScope.Suppress()) try { Undone(journal.UndoBuckets(s3, s3o)); } catch (ClusterDrException u) { ctx.WriteWarning("Restore-DeisStore: " + u.Message); }
                        throw;
                    }
                    parts.Add(new DeisRestorePart { Name = "buckets", Items = missing.Count });
                }, undo: () => Undone(journal.UndoBuckets(s3, s3o)));
                plan.Add(gw, $"Upload {objectCount} object(s), {objectBytes} bytes" + (clashes > 0 ? $" ({clashes} key(s) exist already: the same content is kept, different content is first copied to <bucket>/{aside}<key>)" : ""), () =>
                {
                    try { parts.AddRange(UploadAll(s3, s3o, backup, index, objectBytes, buckets, before, aside, journal, result, ctx)); }
                    catch (Exception ex)
                    {
                        // The plan undoes only steps that finished: the objects of this one go back here, also after Ctrl+C.
                        string note;
                        using (CancellationScope.Suppress())
                        {
                            try { string u = journal.UndoObjects(s3, s3o, ctx); Undone(u); note = "The undo " + u + "."; }
                            catch (ClusterDrException u) { note = u.Message; plan.SetState(gw, "UNDO INCOMPLETE: " + u.Message); ctx.WriteWarning("Restore-DeisStore: " + u.Message); }
                        }
                        result.MovedAside.Clear();
                        if (ex is OperationCanceledException) throw new OperationCanceledException(ex.Message + " " + note, ex);
                        var cde = ex as ClusterDrException ?? DeisStore.Map(ex, s3o, "Uploading objects");
                        throw new ClusterDrException(cde.ErrorId, cde.Kind, cde.Message + " " + note, cde.Target, ex, cde.SurfaceAsIs);
                    }
                }, undo: () =>
                {
                    Undone(journal.UndoObjects(s3, s3o, ctx));
                    result.MovedAside.Clear();
                });
                if (req.RestoreVolume && hasVolume)
                {
                    var sh = req.StoreShell;
                    string dir = req.Nodes.StoreDir, d = Sh.Quote(dir);
                    // Whatever an extraction left (all or part of the backup's volume) is kept, out of the way, in <dir>/.clusterdr-failed-<stamp>/.
                    string clear = $"[ ! -d {d} ] || {{ {MoveEntriesScript(dir, ".", volumeFailed, volumeAside)} && {{ rmdir {Sh.Quote(dir.TrimEnd('/') + "/" + volumeFailed)} 2>/dev/null; true; }}; }}";
                    void Clear() => sh.RunChecked("moving the extracted volume out of the way", clear, ct);
                    // Entries move inside the volume, not the volume itself: in Deis it is a CephFS mount point, which cannot be renamed.
                    if (volumeEntries > 0)
                        plan.Add(sh.Node, $"Move the {volumeEntries} entries of the store volume {dir} into {dir}/{volumeAside}/", () =>
                        {
                            sh.RunChecked("moving the store volume's entries aside", MoveEntriesScript(dir, ".", volumeAside, volumeAside), ct);
                            result.MovedAside[sh.Node + ":" + dir] = dir.TrimEnd('/') + "/" + volumeAside;
                        }, undo: () =>
                        {
                            Clear();
                            sh.RunChecked("moving the store volume's entries back", MoveEntriesScript(dir, volumeAside, ".", null) + " && rmdir " + Sh.Quote(volumeAside), ct);
                            result.MovedAside.Remove(sh.Node + ":" + dir);
                        });
                    plan.Add(sh.Node, $"Extract the store volume into {dir} (owners and modes preserved)", () =>
                    {
                        try
                        {
                            parts.Add(StreamPayload(backup, DeisStore.VolumePayload, sh, "volume", "tar -x of the store volume",
                                $"mkdir -p {d} && tar -x --same-owner --numeric-owner -p -C {d} -f -", ctx));
                        }
                        catch
                        {
                            // A failed step is not undone by the plan: clear what this one half-wrote itself.
                            using (CancellationScope.Suppress()) try { Clear(); } catch (ClusterDrException u) { ctx.WriteWarning("Restore-DeisStore: " + u.Message); }
                            throw;
                        }
                    }, undo: Clear);
                }
                if (req.RestoreDatabase)
                    plan.Add(dbShell.Node, "Load the database dump (pg_dumpall)", () =>
                        parts.Add(StreamPayload(backup, DeisStore.DatabasePayload, dbShell, "database", "loading the database dump", req.Nodes.DatabaseLoadCommand, ctx)));
                if (req.ReSave)
                    plan.Add(req.ControllerShell.Node, "Re-save keys, apps and domains on the controller", () =>
                    {
                        req.ControllerShell.RunChecked("the controller re-save step", req.Nodes.ControllerCommand, ct, DeisStore.ReSaveScript);
                        parts.Add(new DeisRestorePart { Name = "controller", Items = 3 });
                    });
                if (!plan.Execute()) return null;
                result.Steps = plan.Steps.Select(s => s.ToString()).ToArray();
                var moved = journal.Moved.ToList();
                if (moved.Count > 0)
                    ctx.WriteWarning($"Restore-DeisStore overwrote {moved.Count} object(s) whose content differed from the backup; their old content was first copied to " +
                        string.Join(", ", moved.Select(x => x.Bucket).Distinct().Select(b => b + "/" + aside)) + " (see MovedAside). Delete those copies once the restored platform is confirmed good.");
            }
            result.Members = new[] { req.StoreShell?.Node, req.RestoreDatabase ? dbShell?.Node : null, req.ReSave ? req.ControllerShell?.Node : null }.Where(x => x != null).Distinct().ToArray();
            result.Parts = parts.ToArray();
            result.Duration = clock.Elapsed;
            return result;
        }

        /// <summary>Entries (including hidden ones) directly in <paramref name="dir"/> on the node; 0 when it does not exist.</summary>
        internal static int CountEntries(IRemoteShell sh, string dir, CancellationToken ct)
        {
            var r = sh.RunChecked("looking at the store volume", $"[ -d {Sh.Quote(dir)} ] || {{ echo 0; exit 0; }}; ls -A {Sh.Quote(dir)} | wc -l", ct);
            return int.TryParse(r.StdOut.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) ? n : 0;
        }

        /// <summary>
        /// sh: in <paramref name="dir"/>, moves every entry of <paramref name="from"/> (relative to dir) into
        /// <paramref name="to"/> (created), leaving out <paramref name="keep"/> and the target itself.
        /// </summary>
        internal static string MoveEntriesScript(string dir, string from, string to, string keep) =>
            $"cd {Sh.Quote(dir)} && mkdir -p {Sh.Quote(to)} && for e in {Sh.Quote(from)}/* {Sh.Quote(from)}/.[!.]* {Sh.Quote(from)}/..?*; do " +
            "[ -e \"$e\" ] || [ -L \"$e\" ] || continue; n=${e##*/}; " +
            $"[ \"$n\" = {Sh.Quote(to)} ] && continue; " + (keep == null ? "" : $"[ \"$n\" = {Sh.Quote(keep)} ] && continue; ") +
            $"mv -- \"$e\" {Sh.Quote(to)}/ || exit 1; done";

        /// <summary>
        /// Reads the archive once; each object is re-hashed against the manifest into a temp file (MD5 of the
        /// whole and of each part on the way), then handled by one of the parallel workers: a key the target
        /// holds with the same bytes is kept; a key it holds with other bytes is first copied server-side to
        /// <paramref name="aside"/>; then the object is uploaded (in parts above PartSize) and checked by HEAD.
        /// Every change is in <paramref name="journal"/> before it is made.
        /// </summary>
        /// <summary>The object payloads a verified backup holds: listed in manifest.json (older backups) or in its index.</summary>
        private static IEnumerable<ManifestFile> ObjectFiles(BackupManifest m, PayloadIndexFile index) =>
            m.Files.Concat(index?.Files() ?? Enumerable.Empty<ManifestFile>()).Where(f => DeisStore.TryParseArchiveName(f.Path, out _, out _));

        private static DeisRestorePart[] UploadAll(AmazonS3Client s3, DeisS3Options o, ClusterBackup backup, PayloadIndexFile index, long total, string[] buckets,
            Dictionary<string, Dictionary<string, S3Object>> before, string aside, DeisRestoreJournal journal, RestoreResult result, IOperationContext ctx)
        {
            var ct = ctx.Cancellation;
            var expected = backup.Manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
            string tmp = Path.Combine(Path.GetTempPath(), "clusterdr-deis-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(tmp);
            FileModes.TrySetOwnerOnly(tmp);
            var gate = new SemaphoreSlim(Math.Max(1, o.Parallelism));
            var tasks = new List<Task>();
            var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            long done = 0, keptBytes = 0, movedBytes = 0;
            int count = 0, kept = 0, moved = 0, seq = 0;
            var progress = new ProgressReporter(ctx, "Uploading the Deis store's objects", total);
            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                try
                {
                    using (var reader = BackupArchiveReader.Open(backup.Location))
                    {
                        reader.ForEachEntry((name, entry, content) =>
                        {
                            if (entry.IsDirectory || !DeisStore.TryParseArchiveName(name, out var bucket, out var key)) return;
                            if (!errors.IsEmpty) return;
                            // An indexed object is checked against the verified index's line for it, read in step with the archive.
                            ManifestFile file = null;
                            if (index != null && index.Covers(name)) file = index.Expect(name);
                            else expected.TryGetValue(name, out file);
                            if (!buckets.Contains(bucket) || file == null)
                                throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"'{backup.Path}' holds '{name}', which its manifest does not list.", backup.Path);
                            var staged = new StagedObject { Bucket = bucket, Key = key, Sha256 = file.Sha256 };
                            using (var hashing = new ReadHashingStream(content))
                            {
                                DeisS3Transfer.Stage(hashing, Path.Combine(tmp, (seq++).ToString(System.Globalization.CultureInfo.InvariantCulture)), staged,
                                    file.Size > o.PartSize ? DeisS3Transfer.PartSizeFor(file.Size, o.PartSize) : 0);
                                hashing.EnsureUnchanged(file, name, backup.Path);
                            }
                            S3Object held = null;
                            if (before.TryGetValue(bucket, out var inBucket)) inBucket.TryGetValue(key, out held);
                            gate.Wait(ct);
                            if (tasks.Count >= 4 * Math.Max(1, o.Parallelism)) tasks.RemoveAll(t => t.IsCompleted); // memory stays flat over 100,000 objects
                            tasks.Add(Task.Run(async () =>
                            {
                                string doing = $"Comparing {bucket}/{key} with the object the gateway holds";
                                try
                                {
                                    if (stop.IsCancellationRequested) return;
                                    if (held != null && await staged.SameAs(s3, held, stop.Token).ConfigureAwait(false))
                                    {
                                        Interlocked.Increment(ref kept);
                                        Interlocked.Add(ref keptBytes, staged.Size);
                                    }
                                    else
                                    {
                                        if (held != null)
                                        {
                                            // Never lose what was there: a server-side copy first, recorded before the overwrite.
                                            string to = aside + key;
                                            doing = $"Moving {bucket}/{key} aside to {bucket}/{to}";
                                            await DeisS3Transfer.Copy(s3, bucket, key, to, held.Size ?? 0, o.CopyPartSize, stop.Token).ConfigureAwait(false);
                                            journal.MovedAside(bucket, key, to, held.Size ?? 0);
                                            lock (result.MovedAside) result.MovedAside[bucket + "/" + key] = bucket + "/" + to;
                                            Interlocked.Increment(ref moved);
                                            Interlocked.Add(ref movedBytes, held.Size ?? 0);
                                        }
                                        else journal.CreatedObject(bucket, key);
                                        doing = $"Uploading {bucket}/{key}";
                                        await DeisS3Transfer.Upload(s3, staged, stop.Token).ConfigureAwait(false);
                                    }
                                    Interlocked.Add(ref done, staged.Size);
                                    Interlocked.Increment(ref count);
                                }
                                catch (Exception ex)
                                {
                                    errors.Enqueue(ex is OperationCanceledException || ex is ClusterDrException ? ex : DeisStore.Map(ex, o, doing, bucket + "/" + key));
                                    stop.Cancel();
                                }
                                finally { try { File.Delete(staged.File); } catch { } gate.Release(); }
                            }));
                            progress.Report(Interlocked.Read(ref done));
                        });
                    }
                    if (errors.IsEmpty) index?.EnsureAllRead();
                    Task.WaitAll(tasks.ToArray());
                }
                finally
                {
                    try { Task.WaitAll(tasks.ToArray()); } catch { }
                    try { Directory.Delete(tmp, true); } catch { }
                }
            }
            // The first real failure, not a worker that stopped because another one failed.
            var first = errors.FirstOrDefault(e => !(e is OperationCanceledException)) ?? errors.FirstOrDefault();
            if (first != null)
            {
                if (first is OperationCanceledException && ct.IsCancellationRequested) throw first;
                throw DeisStore.Map(first, o, "Uploading objects");
            }
            ct.ThrowIfCancellationRequested();
            progress.Complete();
            ctx.WriteVerbose($"Uploaded {count - kept} object(s), {done - keptBytes} bytes to {o.GatewayUri}, each checked by size and ETag; {kept} object(s) were there with the same content; {moved} overwritten object(s) were first copied aside.");
            var parts = new List<DeisRestorePart> { new DeisRestorePart { Name = "objects", Items = count - kept, Bytes = done - keptBytes } };
            if (kept > 0) parts.Add(new DeisRestorePart { Name = "unchanged", Items = kept, Bytes = keptBytes });
            if (moved > 0) parts.Add(new DeisRestorePart { Name = "moved-aside", Items = moved, Bytes = movedBytes });
            return parts.ToArray();
        }

        /// <summary>Streams one payload (re-hashed against the manifest) into a command's stdin on a node.</summary>
        private static DeisRestorePart StreamPayload(ClusterBackup backup, string payload, IRemoteShell sh, string part, string what, string script, IOperationContext ctx)
        {
            var file = backup.Manifest.Files.Single(f => f.Path == payload);
            bool found = false;
            using (var reader = BackupArchiveReader.Open(backup.Location))
            {
                reader.ForEachEntry((name, entry, content) =>
                {
                    if (name != payload) return;
                    found = true;
                    using (var hashing = new ReadHashingStream(content))
                    {
                        sh.RunStreaming(what, script, hashing, Stream.Null, ctx.Cancellation);
                        hashing.EnsureUnchanged(file, payload, backup.Path);
                    }
                });
            }
            if (!found) throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.InvalidData, $"'{backup.Path}' lacks {payload}.", backup.Path);
            ctx.WriteVerbose($"{what} on {sh.Node}: {file.Size} bytes.");
            return new DeisRestorePart { Name = part, Items = 1, Bytes = file.Size };
        }
    }
}
