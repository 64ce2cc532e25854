using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Transport;
using ICSharpCode.SharpZipLib.Tar;

namespace ClusterDR.ZooKeeper
{
    public sealed class ZkRestoreRequest
    {
        public Stores.BackupLocation BackupPath { get; set; }
        /// <summary>Every server of the ensemble.</summary>
        public IList<ZkMemberSpec> Members { get; set; } = new List<ZkMemberSpec>();
        public bool Force { get; set; }
        public SshOptions Ssh { get; set; } = new SshOptions();
        public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromMinutes(2);
        public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(3);
    }

    /// <summary>
    /// Restore-ZkState's engine, DC/OS's procedure across ALL servers as the adapter of
    /// <see cref="MemberRestore{TMember}"/> (the order and the guard are there): every configured server
    /// listed, the same version-2 state on every server with its own myid, then every server serving with
    /// exactly one leader and the znode count checked. Old data dirs are moved aside, never deleted; a
    /// failure puts them back.
    /// </summary>
    public static class ZkRestore
    {
        public static RestoreResult Run(ZkRestoreRequest req, IOperationContext ctx) => new Adapter(req, ctx).Run();

        /// <summary>What differs for ZooKeeper: four-letter-word status, two dirs, version-2 tars and myid, the znode check.</summary>
        private sealed class Adapter : MemberRestore<ZkMemberSpec>
        {
            private readonly ZkRestoreRequest _req;
            private string _staging, _snapTar, _logTar;
            public Adapter(ZkRestoreRequest req, IOperationContext ctx) : base(ctx) { _req = req; }

            protected override string Operation => "Restore-ZkState";
            protected override string Platform => ZkStatusReader.Platform;
            protected override string BackupKind => ZkBackup.Kind;
            protected override Stores.BackupLocation BackupPath => _req.BackupPath;
            protected override bool Force => _req.Force;
            protected override IList<ZkMemberSpec> Members => _req.Members;
            protected override string Name(ZkMemberSpec m) => m.DisplayName;
            protected override string Label(ZkMemberSpec m) => m.Label;
            protected override IEnumerable<string> DataDirs(ZkMemberSpec m) => m.Dirs;
            protected override string ClusterTarget => "ZooKeeper ensemble";

            protected override void ValidateMembers() => ZkMemberSpec.ValidateAll(_req.Members);
            protected override QuorumStatus ReadStatus() => ZkStatusReader.Read(_req.Members.Select(Target), _req.ProbeTimeout, Ct, Backup.Cluster);
            protected override void CheckStatus(QuorumStatus before) => CheckEveryServerListed(_req, before, Backup, Ctx);
            protected override IRemoteShell OpenShell(ZkMemberSpec m) => ShellFactory.Create(m.Node, m.SshSession, _req.Ssh);
            /// <summary>Only observers are left out: the guard counts the voting servers.</summary>
            protected override void Guard(QuorumStatus before, string quorumProof) => QuorumGuard.EnsureClusterIsDown(ZkStatusReader.Voters(before), Force, Ctx);

            protected override void PlanPrepare(Plan plan) =>
                plan.Check(Backup.Path, "Prepare the version-2 files of the backup", () =>
                {
                    _staging = Path.Combine(Path.GetTempPath(), "clusterdr-zk-" + Guid.NewGuid().ToString("N").Substring(0, 12));
                    Directory.CreateDirectory(_staging);
                    FileModes.TrySetOwnerOnly(_staging, directory: true);
                    (_snapTar, _logTar) = BuildTars(Backup.Location, _staging);
                });

            protected override string StopAction(ZkMemberSpec m) => $"Stop ZooKeeper ({m.EffectiveStop})";
            protected override void Stop(ZkMemberSpec m) =>
                NodeDataDir.StopAndWait(Shell(m), "ZooKeeper server " + m.DisplayName, m.EffectiveStop, m.Dirs, () => ZkBackup.StillAnswers(m.ClientAddress, Ct), Ctx);

            protected override void PlanWrite(Plan plan, ZkMemberSpec m) =>
                plan.Add(m.Label, $"Write the backup's version-2 into {string.Join(" and ", m.Dirs)} and myid {m.Id}", () =>
                {
                    var sh = Shell(m);
                    Extract(sh, m.DataDir, _snapTar, Stamp, m.Id, Ct);
                    Extract(sh, m.SeparateLogDir ? m.DataLogDir : m.DataDir, _logTar, Stamp, null, Ct);
                }, state: "stopped, data dir restored from the backup");

            protected override string StartAction(ZkMemberSpec m) => $"Start ZooKeeper ({m.EffectiveStart})";
            protected override void Start(ZkMemberSpec m) => Shell(m).RunChecked("Start ZooKeeper", m.EffectiveStart, Ct);

            protected override string WaitAction => "Wait until every server serves and exactly one leads";
            protected override void Wait() => Result.Status = WaitServing(_req, Backup.Cluster, Ctx);
            protected override string CheckAction => "Check the znode count against the backup";
            protected override void Check() => CheckZnodes(Result.Status, Backup, Ctx);
            protected override void Done() => Result.Revision = Result.Status.Revision;

            protected override void CleanUp()
            {
                if (_staging != null) { try { Directory.Delete(_staging, true); } catch { } }
            }
        }

        private static ZkTarget Target(ZkMemberSpec m) => new ZkTarget { Name = m.DisplayName, Address = m.ClientAddress, Id = m.Id };

        /// <summary>
        /// A restore must stop every voting server: one left out could keep a quorum alive or rejoin with
        /// newer data. The live configuration (conf) is authoritative; the backup's layout is checked too.
        /// </summary>
        private static void CheckEveryServerListed(ZkRestoreRequest req, QuorumStatus before, ClusterBackup backup, IOperationContext ctx)
        {
            var ids = new HashSet<int>(req.Members.Select(m => m.Id));
            var unlisted = before.Members.Where(m => m.Name.StartsWith("server.", StringComparison.Ordinal) && m.ClientUrls.Length == 0).Select(m => m.Id).ToList();
            if (unlisted.Count > 0)
                throw new ClusterDrException(ErrorIds.EnsembleIncomplete, ErrorKind.InvalidArgument,
                    $"The running ensemble's configuration lists server(s) {string.Join(", ", unlisted)} that -Member does not describe; a restore must stop and rewrite every server. Nothing was changed.", unlisted);
            // Answering servers whose myid differs from their spec: the spec is wrong.
            foreach (var m in req.Members)
            {
                var cm = before.Members.FirstOrDefault(x => x.Name == m.DisplayName);
                if (cm?.Endpoint != null && cm.Id != m.Id.ToString(CultureInfo.InvariantCulture))
                    throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument,
                        $"{m.Label} answers at {m.ClientAddress} as myid {cm.Id}, but its spec says Id {m.Id}. Nothing was changed.", m);
            }
            var layout = (backup.Manifest.Fact("servers") ?? "").Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('=')[0]).Where(k => k.StartsWith("server.", StringComparison.Ordinal))
                .Select(k => int.TryParse(k.Substring(7), NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : 0).Where(id => id > 0).ToList();
            var missing = layout.Where(id => !ids.Contains(id)).ToList();
            if (missing.Count > 0)
            {
                QuorumGuard.Refuse(ErrorIds.EnsembleIncomplete, ErrorKind.InvalidArgument,
                    $"The backup was taken from an ensemble with server(s) {string.Join(", ", missing)} that -Member does not describe.", req.Force, ctx, missing,
                    advice: "Describe every server; -Force is for an ensemble that was rebuilt with other ids.", nothingChanged: true);
            }
        }

        /// <summary>
        /// Reads the verified archive once into two local tars (snapshots and epoch files; logs), each
        /// holding version-2/&lt;file&gt; regular files only: the same names a node's tar -x will see.
        /// </summary>
        private static (string Snap, string Log) BuildTars(Stores.BackupLocation archive, string staging)
        {
            string snap = Path.Combine(staging, "data.tar"), log = Path.Combine(staging, "log.tar");
            using (var reader = BackupArchiveReader.Open(archive))
            using (var snapFile = new FileStream(snap, FileMode.CreateNew, FileAccess.Write))
            using (var logFile = new FileStream(log, FileMode.CreateNew, FileAccess.Write))
            using (var snapTar = new TarOutputStream(snapFile, Encoding.UTF8) { IsStreamOwner = false })
            using (var logTar = new TarOutputStream(logFile, Encoding.UTF8) { IsStreamOwner = false })
            {
                var buffer = new byte[1 << 16];
                reader.ForEachEntry((name, entry, content) =>
                {
                    if (entry.IsDirectory) return;
                    string file = name.StartsWith(ZkBackup.LogPrefix, StringComparison.Ordinal) ? name.Substring(ZkBackup.LogPrefix.Length)
                        : name.StartsWith(ZkBackup.DataPrefix, StringComparison.Ordinal) ? name.Substring(ZkBackup.DataPrefix.Length) : null;
                    byte type = entry.TarHeader.TypeFlag;
                    if (file == null || file.Length == 0 || file.IndexOf('/') >= 0 || (type != TarHeader.LF_NORMAL && type != TarHeader.LF_OLDNORM))
                        throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"'{archive}' holds '{name}', which is not a version-2 file of a ZooKeeper backup.", archive);
                    var tar = file.StartsWith("log.", StringComparison.Ordinal) ? logTar : snapTar;
                    var e = TarEntry.CreateTarEntry("version-2/" + file);
                    e.Size = entry.Size;
                    e.ModTime = entry.ModTime;
                    e.TarHeader.Mode = Convert.ToInt32("600", 8);
                    tar.PutNextEntry(e);
                    int n;
                    while ((n = content.Read(buffer, 0, buffer.Length)) > 0) tar.Write(buffer, 0, n);
                    tar.CloseEntry();
                });
                snapTar.Finish();
                logTar.Finish();
            }
            return (snap, log);
        }

        /// <summary>Streams a local tar to "tar -x" in the (new) dir on the node, writes myid, gives the dir its old owner.</summary>
        private static void Extract(IRemoteShell sh, string dir, string tarFile, string stamp, int? myid, CancellationToken ct)
        {
            string aside = NodeDataDir.AsidePath(dir, stamp);
            string script = "umask 077; mkdir -p " + Sh.Quote(dir) + " && tar -C " + Sh.Quote(dir) + " --no-same-owner -xf - || exit $?; " +
                (myid.HasValue ? "printf '%s\\n' " + myid.Value.ToString(CultureInfo.InvariantCulture) + " > " + Sh.Quote(dir.TrimEnd('/') + "/myid") + " || exit $?; " : "") +
                NodeDataDir.RestoreOwnerScript(dir, aside);
            using (var f = new FileStream(tarFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
                sh.RunStreaming("Write version-2 into " + dir, script, f, null, ct);
        }

        internal static QuorumStatus WaitServing(ZkRestoreRequest req, string cluster, IOperationContext ctx)
        {
            var clock = Stopwatch.StartNew();
            QuorumStatus last = null;
            string problem = "no answer yet";
            while (clock.Elapsed < req.WaitTimeout)
            {
                Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                last = ZkStatusReader.Read(req.Members.Select(Target), req.ProbeTimeout, ctx.Cancellation, cluster);
                problem = ZkStatusReader.Problem(last);
                if (problem == null) return last;
                Thread.Sleep(100); // four-letter words are cheap; the ensemble is down until this returns
            }
            throw new ClusterDrException(ErrorIds.WaitTimedOut, ErrorKind.OperationTimeout,
                $"The restored ZooKeeper ensemble did not serve with one leader within {req.WaitTimeout.TotalSeconds:0} s: {problem}.");
        }

        /// <summary>
        /// The restored tree must hold at least the backup's persistent znodes: ephemeral ones vanish
        /// when their old sessions expire, and clients may already have added new ones.
        /// </summary>
        private static void CheckZnodes(QuorumStatus after, ClusterBackup backup, IOperationContext ctx)
        {
            if (!long.TryParse(backup.Manifest.Fact("znodeCount"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long expected)) return;
            long.TryParse(backup.Manifest.Fact("ephemeralCount") ?? "0", NumberStyles.Integer, CultureInfo.InvariantCulture, out long ephemerals);
            var servers = after.Members.OfType<ZkMember>().ToList();
            var leader = servers.FirstOrDefault(m => m.IsLeader) ?? servers.First(m => m.Healthy);
            if (leader.ZnodeCount < expected - ephemerals)
                throw new ClusterDrException(ErrorIds.ZnodeCountMismatch, ErrorKind.InvalidData,
                    $"The restored ensemble holds {leader.ZnodeCount} znodes; the backup recorded {expected} ({ephemerals} of them ephemeral). Data is missing.");
            if (leader.ZnodeCount != expected)
                ctx.WriteWarning($"The restored ensemble holds {leader.ZnodeCount} znodes; the backup recorded {expected} ({ephemerals} ephemeral, which vanish with their sessions).");
            else ctx.WriteVerbose($"The restored ensemble holds the backup's {expected} znodes.");
        }
    }
}
