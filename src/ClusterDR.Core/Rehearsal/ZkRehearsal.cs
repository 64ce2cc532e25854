using System;
using System.Globalization;
using System.IO;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Transport;
using ClusterDR.ZooKeeper;

namespace ClusterDR.Rehearsal
{
    /// <summary>
    /// ZooKeeper: the backup's version-2 (and its separate data log, when it has one) under a standalone server on
    /// loopback, asked with srvr for its last zxid and znode count.
    /// </summary>
    internal static class ZkRehearsal
    {
        public static ClusterBackup Run(Stores.BackupLocation location, RehearsalOptions o, RehearsalResult result, IOperationContext outer)
        {
            RehearsalTools.EnsureLinux(ZkBackup.Kind);
            var tools = new RehearsalTools(o.ToolPath);
            string java = tools.Java();
            string classPath = tools.ZooKeeperClassPath();
            var ctx = new RehearsalContext(outer);
            using (var scratch = Scratch.Create(ZkBackup.Kind, outer))
            {
                string data = scratch.PathOf("data"), dataLog = scratch.PathOf("datalog"), log = scratch.PathOf("zookeeper.log");
                bool separateLog = false;
                var backup = BackupRehearsal.VerifyExtracting(location, ZkBackup.Kind, result, outer, (name, entry) =>
                {
                    string target;
                    if (name.StartsWith(ZkBackup.LogPrefix, StringComparison.Ordinal)) { target = ArchivePaths.Resolve(dataLog, name.Substring("datalog/".Length)); separateLog = true; }
                    else if (name.StartsWith(ZkBackup.DataPrefix, StringComparison.Ordinal)) target = ArchivePaths.Resolve(data, name);
                    else return null;
                    if (entry.IsDirectory) { Directory.CreateDirectory(target); return null; }
                    Directory.CreateDirectory(Path.GetDirectoryName(target));
                    return Scratch.CreateFile(target);
                });
                Directory.CreateDirectory(Path.Combine(data, "version-2"));

                int port = scratch.FreePort();
                string address = "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
                string cfg = scratch.PathOf("zoo.cfg");
                File.WriteAllText(cfg,
                    "tickTime=2000\n" +
                    "dataDir=" + data + "\n" +
                    (separateLog ? "dataLogDir=" + dataLog + "\n" : "") +
                    "clientPort=" + port.ToString(CultureInfo.InvariantCulture) + "\n" +
                    "clientPortAddress=127.0.0.1\n" +
                    "admin.enableServer=false\n" +
                    "4lw.commands.whitelist=*\n" +
                    "autopurge.purgeInterval=0\n");
                File.WriteAllText(scratch.PathOf("log4j.properties"),
                    "log4j.rootLogger=WARN, F\nlog4j.appender.F=org.apache.log4j.FileAppender\nlog4j.appender.F.File=" + log +
                    "\nlog4j.appender.F.layout=org.apache.log4j.PatternLayout\nlog4j.appender.F.layout.ConversionPattern=%d{ISO8601} %-5p %c{1}: %m%n\n");
                scratch.ReleasePorts();
                int pid = scratch.Start("ZooKeeper", Sh.Join(new[]
                {
                    java, "-XX:+UseSerialGC", "-Dzookeeper.log.dir=" + scratch.Dir, "-Dlog4j.configuration=file:" + scratch.PathOf("log4j.properties"),
                    "-Dzookeeper.admin.enableServer=false", "-cp", classPath, "org.apache.zookeeper.server.ZooKeeperServerMain", cfg,
                }), log);

                ZkServerInfo info = null;
                if (!BackupRehearsal.Step(result, "serves", "a standalone server answering srvr", () =>
                {
                    string why = BackupRehearsal.WaitUntil(() =>
                    {
                        try
                        {
                            info = ZkClient.Probe(address, TimeSpan.FromSeconds(2), ctx.Cancellation, withConf: false);
                            return info.Serving ? null : info.NotServingText;
                        }
                        catch (ZkProbeException ex) { return ex.Message; }
                    }, pid, o.WaitTimeout, ctx);
                    if (why != null) throw new ClusterDrException(ErrorIds.RehearsalFailed, ErrorKind.InvalidData, $"ZooKeeper on {address} {why} ({scratch.Tail(log)})");
                    result.Server = $"ZooKeeper {info.Version} on {address}";
                    return $"ZooKeeper {info.Version} ({info.Mode}) on {address}";
                })) return backup;
                Compare(backup.Manifest, info, result);
                return backup;
            }
        }

        /// <summary>
        /// The last zxid and the znode count against those recorded just before the server was stopped for the copy. A
        /// busy ensemble may commit more before the stop, so a higher zxid passes, and the count is then not comparable.
        /// </summary>
        internal static void Compare(BackupManifest m, ZkServerInfo info, RehearsalResult result)
        {
            string z = m.Fact("zxid");
            if (z == null || !long.TryParse(z.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? z.Substring(2) : z, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long recorded))
            {
                result.CouldNotCompare("the zxid and znode count (the manifest records none)");
                return;
            }
            bool epochStart = (recorded & 0xffffffffL) == 0 && recorded != 0;
            bool exact;
            if (epochStart)
            {
                // A server elected since its last write reports the new epoch's first zxid, which no transaction has yet.
                result.Add("zxid", $"the last transaction before epoch 0x{recorded >> 32:x} ({z}: no write since the election)", info.ZxidHex, info.Zxid <= recorded);
                exact = info.Zxid <= recorded;
            }
            else
            {
                result.Add("zxid", "at least " + z, info.ZxidHex, info.Zxid >= recorded);
                exact = info.Zxid == recorded;
            }
            if (!long.TryParse(m.Fact("znodeCount"), NumberStyles.None, CultureInfo.InvariantCulture, out long count)) { result.CouldNotCompare("the znode count (the manifest records none)"); return; }
            if (!exact)
            {
                if (info.Zxid > recorded) result.CouldNotCompare($"the znode count (the ensemble committed up to {info.ZxidHex} after counting at {z})");
                return;
            }
            long.TryParse(m.Fact("ephemeralCount"), NumberStyles.None, CultureInfo.InvariantCulture, out long ephemerals);
            // Ephemeral znodes go when their sessions expire on the standalone server.
            bool ok = info.ZnodeCount == count || (info.ZnodeCount < count && info.ZnodeCount >= count - ephemerals);
            result.Add("znodes", ephemerals > 0 ? $"{count} ({ephemerals} of them ephemeral)" : count.ToString(CultureInfo.InvariantCulture),
                info.ZnodeCount.ToString(CultureInfo.InvariantCulture), ok);
        }
    }
}
