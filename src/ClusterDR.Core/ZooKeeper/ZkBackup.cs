using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.IO.Pipes;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Transport;
using ICSharpCode.SharpZipLib.Tar;

namespace ClusterDR.ZooKeeper
{
    public sealed class ZkBackupRequest
    {
        /// <summary>The one server to back up (stopped for the copy).</summary>
        public ZkMemberSpec Member { get; set; }
        /// <summary>Every server of the ensemble (host:port), for the quorum guard; the member's own address is added.</summary>
        public IList<string> Servers { get; set; } = new List<string>();
        public string Directory { get; set; }
        public string Label { get; set; }
        /// <summary>Name for the file name and manifest (default: the host of the first server).</summary>
        public string Cluster { get; set; }
        public bool Force { get; set; }
        /// <summary>Format and compression of the archive (zstd level 1 by default).</summary>
        public ArchiveOptions Archive { get; set; } = new ArchiveOptions();
        public SshOptions Ssh { get; set; } = new SshOptions();
        public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromMinutes(2);
        public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(3);
    }

    /// <summary>
    /// Backup-ZkState's engine, DC/OS's procedure on one server: guard, record the server's facts,
    /// stop it, stream its version-2 snapshots and transaction logs into the archive (logs trimmed
    /// of their preallocated zero padding), start it again (also when the copy failed), wait until it
    /// serves and has caught up, then write the archive.
    /// </summary>
    public static class ZkBackup
    {
        public const string Kind = "zookeeper";
        public const string DataPrefix = "version-2/";
        public const string LogPrefix = "datalog/version-2/";

        public static ClusterBackup Run(ZkBackupRequest req, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            var ct = ctx.Cancellation;
            var m = req.Member ?? throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument, "Name the ZooKeeper server to back up (-Member).");
            m.Validate(needsId: false, needsDataDir: false);
            var servers = (req.Servers ?? new List<string>()).Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToList();
            if (!servers.Contains(m.ClientAddress)) servers.Insert(0, m.ClientAddress);

            // 1. Guard: this server must serve inside a quorate ensemble, and stopping it must leave a quorum.
            var status = ZkStatusReader.Read(servers.Select(s => new ZkTarget { Address = s }), req.ProbeTimeout, ct, req.Cluster);
            var me = status.Members.FirstOrDefault(x => x.Name == m.ClientAddress)
                ?? throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument,
                    $"-Server names {m.ClientAddress} twice under other addresses; list each server once.", m);
            QuorumGuard.EnsureReadableWithQuorum(status, me.Name, req.Force, ctx);
            QuorumGuard.EnsureCanTakeDown(ZkStatusReader.Voters(status), new[] { me.Name }, req.Force, ctx);

            // 2. The server's own view of its directories must match the spec: a wrong dataLogDir would lose every transaction.
            ZkServerInfo conf = null;
            try { conf = ZkClient.Probe(m.ClientAddress, req.ProbeTimeout, ct, withConf: true, withMntr: true); }
            catch (ZkProbeException ex) { ctx.WriteWarning($"Cannot read the configuration of {m.ClientAddress} ({ex.Message}); relying on the member spec's directories."); }
            var spec = ResolveDirs(m, conf);

            var created = DateTime.UtcNow;
            string cluster = req.Cluster ?? status.Cluster;
            string fileName = req.Archive.FileName(Kind, cluster, req.Label, created);
            string target = Path.Combine(Path.GetFullPath(req.Directory), fileName);
            var facts = new Dictionary<string, string>();
            BackupArchiveWriter writer = null;
            ClusterBackup result = null;
            var downtime = new Stopwatch();
            bool stopped = false, started = false;
            long trimmed = 0;
            using (var sh = ShellFactory.Create(spec.Node, spec.SshSession, req.Ssh))
            {
                try
                {
                    var plan = new Plan(ctx, "Backup-ZkState", ErrorIds.BackupFailed);
                    plan.SetState(spec.Label, "serving");
                    plan.Add(spec.Label, $"Stop ZooKeeper ({spec.EffectiveStop})", () =>
                    {
                        RecordFacts(facts, spec, status, req, ct);
                        downtime.Start();
                        stopped = true;
                        NodeDataDir.StopAndWait(sh, "ZooKeeper server " + spec.DisplayName, spec.EffectiveStop, spec.Dirs, () => StillAnswers(spec.ClientAddress, ct), ctx);
                    }, undo: () => { sh.RunChecked("Start ZooKeeper", spec.EffectiveStart, ct); started = true; },
                       state: "stopped", undoneState: "started again after a failure");
                    plan.Add(target, $"Copy version-2 of {string.Join(" and ", spec.Dirs)} from {sh.Node}{req.Archive.EncryptionNote}", () =>
                    {
                        writer = req.Archive.CreateWriter(req.Directory, fileName);
                        bool compress = !(sh is LocalShell);
                        var progress = new ProgressReporter(ctx, "Copying ZooKeeper state from " + spec.DisplayName, -1);
                        long done = 0;
                        trimmed += CopyVersion2(sh, spec.DataDir, DataPrefix, !spec.SeparateLogDir, compress, writer, n => progress.Report(done += n), ct);
                        if (spec.SeparateLogDir) trimmed += CopyVersion2(sh, spec.DataLogDir, LogPrefix, true, compress, writer, n => progress.Report(done += n), ct);
                        progress.Complete();
                    });
                    plan.Add(spec.Label, $"Start ZooKeeper ({spec.EffectiveStart})", () => { sh.RunChecked("Start ZooKeeper", spec.EffectiveStart, ct); started = true; },
                        state: "started");
                    plan.Check(spec.Label, "Wait until it serves and has caught up with the leader", () =>
                    {
                        WaitCaughtUp(spec, servers, req, ctx);
                        downtime.Stop();
                    });
                    plan.Check(target, "Write the backup archive", () =>
                    {
                        facts["downtimeMs"] = downtime.ElapsedMilliseconds.ToString(CultureInfo.InvariantCulture);
                        facts["trimmedLogBytes"] = trimmed.ToString(CultureInfo.InvariantCulture);
                        var manifest = new BackupManifest
                        {
                            Kind = Kind,
                            Cluster = cluster,
                            Label = req.Label,
                            CreatedUtc = created,
                            SourceNodes = new List<string> { $"{sh.Node} ({spec.ClientAddress})" },
                            Facts = facts,
                        };
                        result = writer.Commit(manifest, ctx);
                    });
                    plan.Execute();
                    return result;
                }
                finally
                {
                    // Ctrl+C between steps skips the plan's undo: never leave the server stopped.
                    if (stopped && !started)
                    {
                        try { sh.RunChecked("Start ZooKeeper", spec.EffectiveStart, CancellationToken.None); }
                        catch (ClusterDrException ex) { ctx.WriteWarning($"Could not start {spec.Label} again: {ex.Message}"); }
                    }
                    writer?.Dispose();
                }
            }
        }

        private static ZkMemberSpec ResolveDirs(ZkMemberSpec m, ZkServerInfo conf)
        {
            var s = m.MemberwiseCloneSpec();
            if (conf?.DataDir == null)
            {
                if (string.IsNullOrWhiteSpace(s.DataDir))
                    throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument, $"{m.Label}: give DataDir (its conf command does not answer).", m);
                return s;
            }
            if (string.IsNullOrWhiteSpace(s.DataDir)) s.DataDir = conf.DataDir;
            if (string.IsNullOrWhiteSpace(s.DataLogDir) && conf.DataLogDir != conf.DataDir) s.DataLogDir = conf.DataLogDir;
            if (s.DataDir.TrimEnd('/') != conf.DataDir || s.LogDir.TrimEnd('/') != conf.DataLogDir)
                throw new ClusterDrException(ErrorIds.DataDirMismatch, ErrorKind.InvalidArgument,
                    $"{m.Label} keeps its snapshots in {conf.DataDir} and its transaction logs in {conf.DataLogDir} (its conf command says so), " +
                    $"but the member spec says DataDir {s.DataDir} and DataLogDir {s.LogDir}. Fix the spec; a backup without the logs would lose data.", m);
            return s;
        }

        private static void RecordFacts(Dictionary<string, string> facts, ZkMemberSpec m, QuorumStatus status, ZkBackupRequest req, CancellationToken ct)
        {
            // Read as late as possible: the copy holds at least this much.
            var info = ZkClient.Probe(m.ClientAddress, req.ProbeTimeout, ct, withConf: true, withMntr: true);
            facts["zxid"] = info.ZxidHex;
            facts["znodeCount"] = info.ZnodeCount.ToString(CultureInfo.InvariantCulture);
            facts["ephemeralCount"] = Math.Max(0, info.Ephemerals).ToString(CultureInfo.InvariantCulture);
            facts["myid"] = info.ServerId.ToString(CultureInfo.InvariantCulture);
            facts["mode"] = info.Mode ?? "";
            facts["zookeeperVersion"] = info.Version ?? "";
            facts["servers"] = string.Join(";", info.MembershipLines);
            facts["memberCount"] = status.MemberCount.ToString(CultureInfo.InvariantCulture);
            facts["members"] = string.Join(",", status.Members.Select(x => x.Name));
            facts["dataDir"] = m.DataDir;
            facts["dataLogDir"] = m.LogDir;
        }

        internal static string StillAnswers(string address, CancellationToken ct)
        {
            try
            {
                ZkClient.FourLetter(address, "srvr", TimeSpan.FromSeconds(1), ct);
                return "still answers at " + address;
            }
            catch (ZkProbeException) { return null; }
        }

        /// <summary>
        /// Streams "tar -C dir -cf - version-2" from the node (gzip-compressed over SSH: preallocated
        /// logs are mostly zeros) and stages each regular file as one payload entry. Returns the bytes of
        /// zero padding trimmed from log files.
        /// </summary>
        private static long CopyVersion2(IRemoteShell sh, string dir, string prefix, bool logsHere, bool compress, BackupArchiveWriter writer, Action<long> progress, CancellationToken ct)
        {
            string tar = "tar -C " + Sh.Quote(dir) + " -cf - version-2";
            // POSIX sh has no pipefail: tar's own status travels on fd 4.
            string script = compress
                ? "exec 3>&1; s=$( { { " + tar + "; echo $? >&4; } | gzip -1 -c >&3; } 4>&1 ); exit ${s:-1}"
                : tar;
            long trimmed = 0;
            int files = 0;
            using (var pipeOut = new AnonymousPipeServerStream(PipeDirection.Out))
            using (var pipeIn = new AnonymousPipeClientStream(PipeDirection.In, pipeOut.ClientSafePipeHandle))
            {
                var producer = Task.Run(() =>
                {
                    try { sh.RunStreaming("tar of " + dir + "/version-2", script, null, pipeOut, ct); }
                    finally { pipeOut.Dispose(); }
                });
                try
                {
                    using (var decoded = compress ? (Stream)new GZipStream(pipeIn, CompressionMode.Decompress, leaveOpen: true) : pipeIn)
                    using (var input = new TarInputStream(decoded, Encoding.UTF8) { IsStreamOwner = false })
                    {
                        TarEntry e;
                        var buffer = new byte[1 << 16];
                        while ((e = input.GetNextEntry()) != null)
                        {
                            Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
                            byte type = e.TarHeader.TypeFlag;
                            if (type == TarHeader.LF_DIR) continue;
                            string name = ArchivePaths.Normalize(e.Name);
                            if ((type != TarHeader.LF_NORMAL && type != TarHeader.LF_OLDNORM) || !name.StartsWith("version-2/", StringComparison.Ordinal) || name.IndexOf('/', 10) >= 0)
                                throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"{dir}/{name} on {sh.Node} is not a regular file of version-2; refusing to back it up.", name);
                            string file = name.Substring("version-2/".Length);
                            if (!logsHere && file.StartsWith("log.", StringComparison.Ordinal)) continue;
                            bool isLog = file.StartsWith("log.", StringComparison.Ordinal);
                            writer.AddPayload(prefix + file, sink =>
                            {
                                using (var trim = isLog ? new ZeroTrimmingStream(sink, TxnLogHeaderLength) : null)
                                {
                                    Stream to = (Stream)trim ?? sink;
                                    int n;
                                    while ((n = input.Read(buffer, 0, buffer.Length)) > 0) { to.Write(buffer, 0, n); progress(n); }
                                    if (trim != null) trimmed += trim.Dropped;
                                }
                            });
                            files++;
                        }
                        // Drain what is left (tar's end blocks) so the node's tar exits cleanly.
                        var rest = new byte[1 << 16];
                        while (decoded.Read(rest, 0, rest.Length) > 0) { }
                    }
                }
                catch (Exception ex) when (!(ex is ClusterDrException) && !(ex is OperationCanceledException) && !producer.IsFaulted)
                {
                    pipeIn.Dispose();
                    try { producer.Wait(); } catch (AggregateException agg) when (agg.InnerException is ClusterDrException cde) { throw cde; } catch (AggregateException) { }
                    throw new ClusterDrException(ErrorIds.BackupFailed, ErrorKind.InvalidData, $"The tar stream of {dir}/version-2 from {sh.Node} is damaged: {ex.Message}", dir, ex);
                }
                finally
                {
                    pipeIn.Dispose();
                }
                try { producer.Wait(); } catch (AggregateException agg) { throw agg.InnerException; }
            }
            if (files == 0)
                throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.ObjectNotFound, $"{dir}/version-2 on {sh.Node} holds no files: nothing to back up.", dir);
            return trimmed;
        }

        /// <summary>A txn log's file header (magic ZKLG, version, dbid): never trimmed, even when its dbid is zero.</summary>
        internal const int TxnLogHeaderLength = 16;

        internal static void WaitCaughtUp(ZkMemberSpec m, IList<string> servers, ZkBackupRequest req, IOperationContext ctx)
        {
            var clock = Stopwatch.StartNew();
            long target = -1;
            string last = "it never answered";
            while (clock.Elapsed < req.WaitTimeout)
            {
                Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                try
                {
                    var me = ZkClient.Probe(m.ClientAddress, req.ProbeTimeout, ctx.Cancellation, withConf: false);
                    if (me.Serving)
                    {
                        if (target < 0)
                        {
                            var status = ZkStatusReader.Read(servers.Select(s => new ZkTarget { Address = s }), req.ProbeTimeout, ctx.Cancellation);
                            target = status.Members.FirstOrDefault(x => x.IsLeader)?.RaftIndex ?? me.Zxid;
                        }
                        // A follower serves only after syncing with the leader; after elections with no writes
                        // the leader's zxid is <new epoch>:0 while a synced follower still shows the last txn of
                        // an older epoch (one or more elections back), so that gap is no lag.
                        bool newEpochWithoutTxns = (target & 0xffffffffL) == 0 && (me.Zxid >> 32) < (target >> 32);
                        if (me.Zxid >= target || me.Mode == "leader" || newEpochWithoutTxns)
                        {
                            ctx.WriteVerbose($"{m.Label} serves as {me.Mode} at zxid {me.ZxidHex}.");
                            return;
                        }
                        last = $"it serves at zxid {me.ZxidHex}, behind the leader's 0x{target:x}";
                    }
                    else last = me.NotServingText;
                }
                catch (ZkProbeException ex) { last = ex.Message; }
                Thread.Sleep(100); // the server is down until this returns
            }
            throw new ClusterDrException(ErrorIds.WaitTimedOut, ErrorKind.OperationTimeout,
                $"{m.Label} did not serve and catch up within {req.WaitTimeout.TotalSeconds:0} s after the backup: {last}.", m);
        }
    }

    /// <summary>
    /// Passes bytes on but holds back runs of zeros, dropping the ones at the very end: ZooKeeper
    /// preallocates transaction logs with zeros and reads a log until EOF or a zero-length record, so
    /// zeros after the last record's end-of-record byte are padding. The first <c>keep</c> bytes always pass.
    /// </summary>
    internal sealed class ZeroTrimmingStream : Stream
    {
        private static readonly byte[] Zeros = new byte[1 << 16];
        private readonly Stream _inner;
        private readonly long _keep;
        private long _position;
        private long _pending;

        public ZeroTrimmingStream(Stream inner, long keep) { _inner = inner; _keep = keep; }

        /// <summary>Trailing zeros dropped so far (final once the stream is disposed).</summary>
        public long Dropped => _pending;

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_position < _keep)
            {
                int head = (int)Math.Min(count, _keep - _position);
                _inner.Write(buffer, offset, head);
                _position += head; offset += head; count -= head;
            }
            if (count <= 0) return;
            int last = offset + count - 1;
            while (last >= offset && buffer[last] == 0) last--;
            if (last < offset) { _pending += count; _position += count; return; }
            FlushZeros();
            _inner.Write(buffer, offset, last - offset + 1);
            _pending = offset + count - 1 - last;
            _position += count;
        }

        private void FlushZeros()
        {
            while (_pending > 0)
            {
                int n = (int)Math.Min(_pending, Zeros.Length);
                _inner.Write(Zeros, 0, n);
                _pending -= n;
            }
        }

        public override void Flush() => _inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
