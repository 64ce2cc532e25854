using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using ClusterDR.Deis;
using ClusterDR.Safety;

// DeisBench: Backup-DeisStore's object copy (DeisStoreBackup.Run, objects only) against `s3cmd sync`
// of the same buckets from the same real radosgw (tests/tools/ceph-s3.sh). Not part of ClusterDR.sln.
//   dotnet run -c Release --project bench/DeisBench -- [--small N] [--small-kb K] [--large N] [--large-mb M] [--rounds R] [--parallel P] [--verbose] [--ours-only]
internal static class Program
{
    private const string Access = "DEISBENCHACCESS", Secret = "deis-bench-secret-1c9e";

    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--backup-only") return BackupOnly(args);
        int small = Arg(args, "--small", 2000), smallKb = Arg(args, "--small-kb", 32), large = Arg(args, "--large", 3), largeMb = Arg(args, "--large-mb", 120);
        int rounds = Arg(args, "--rounds", 3), parallel = Arg(args, "--parallel", new DeisS3Options().Parallelism);
        string root = FindRoot();
        string dir = Path.Combine(Path.GetTempPath(), "deisbench-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        Directory.CreateDirectory(dir);
        int port = 27600;
        try
        {
            Run("sh", Secret + "\n", Path.Combine(root, "tests/tools/ceph-s3.sh"), "start", Path.Combine(dir, "ceph"), port.ToString(CultureInfo.InvariantCulture), Access);
            var o = new DeisS3Options { GatewayUri = new Uri($"http://127.0.0.1:{port}"), AccessKey = Access, SecretKey = Secure(Secret), Parallelism = parallel };
            long bytes = Fill(o, small, smallKb, large, largeMb);
            string cfg = Path.Combine(dir, "s3cfg");
            File.WriteAllText(cfg, $"[default]\naccess_key = {Access}\nsecret_key = {Secret}\nhost_base = 127.0.0.1:{port}\nhost_bucket = 127.0.0.1:{port}\nuse_https = False\nsignature_v2 = False\n");
            var ours = new List<double>(); var theirs = new List<double>(); var rss = new List<double>();
            for (int r = 0; r < rounds + 1; r++)
            {
                bool oursFirst = r % 2 == 0;
                for (int k = 0; k < 2; k++)
                {
                    string outDir = Path.Combine(dir, "out-" + r + "-" + k);
                    Directory.CreateDirectory(outDir);
                    var sw = Stopwatch.StartNew();
                    if (oursFirst == (k == 0))
                    {
                        // A child process of its own, like s3cmd, so that its peak memory can be read.
                        string result = RunOut(Environment.ProcessPath!, Secret + "\n", ChildArgs(o.GatewayUri, outDir, parallel, args.Contains("--verbose")));
                        if (args.Contains("--verbose")) Console.Write(result);
                        var line = result.Split('\n').Last(l => l.StartsWith("BENCH-RESULT ")).Split(' ');
                        if (r > 0) { ours.Add(sw.Elapsed.TotalSeconds); rss.Add(long.Parse(line[2], CultureInfo.InvariantCulture) / 1024.0); }
                    }
                    else if (!args.Contains("--ours-only"))
                    {
                        foreach (var b in DeisStore.DefaultBuckets)
                            Run("s3cmd", null, "-c", cfg, "--no-progress", "-q", "sync", $"s3://{b}/", Path.Combine(outDir, b) + "/");
                        if (r > 0) theirs.Add(sw.Elapsed.TotalSeconds);
                    }
                    Directory.Delete(outDir, true);
                }
            }
            var sb = new StringBuilder();
            sb.AppendLine($"# DeisBench {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
            sb.AppendLine($"Objects: {small} x {smallKb} KiB + {large} x {largeMb} MiB (+1 empty, +1 small) = {bytes / 1048576.0:0.0} MiB in db_wal and registry; {rounds} timed rounds after one warm-up, order alternating; parallelism {parallel}.");
            sb.AppendLine();
            sb.AppendLine("| tool | runs (s) | median (s) | MiB/s |");
            sb.AppendLine("|---|---|---|---|");
            sb.AppendLine($"| Backup-DeisStore engine (objects into a verified .tar.gz) | {string.Join(", ", ours.Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))} | {Median(ours):0.00} | {bytes / 1048576.0 / Median(ours):0.0} |");
            sb.AppendLine($"| s3cmd sync (objects into plain files) | {string.Join(", ", theirs.Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))} | {Median(theirs):0.00} | {bytes / 1048576.0 / Median(theirs):0.0} |");
            sb.AppendLine();
            sb.AppendLine($"Ratio ours/s3cmd (median wall time): {Median(ours) / Median(theirs):0.00} ({Median(theirs) / Median(ours):0.00}× faster)");
            sb.AppendLine($"Our peak RSS (VmHWM of the child process, per round): {string.Join(", ", rss.Select(x => x.ToString("0", CultureInfo.InvariantCulture)))} MB");
            Console.Write(sb.ToString());
            return 0;
        }
        finally
        {
            try { Run("sh", null, Path.Combine(root, "tests/tools/ceph-s3.sh"), "stop", Path.Combine(dir, "ceph")); } catch { }
            try { Directory.Delete(dir, true); } catch { }
        }
    }

    private static string[] ChildArgs(Uri gateway, string dir, int parallel, bool verbose)
    {
        var a = new List<string> { "--backup-only", gateway.ToString(), dir, parallel.ToString(CultureInfo.InvariantCulture) };
        // Started as `dotnet DeisBench.dll` the child needs the dll; started through the apphost it does not.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") a.Insert(0, typeof(Program).Assembly.Location);
        if (verbose) a.Add("--verbose");
        return a.ToArray();
    }

    /// <summary>Child: one engine backup (objects only); the secret comes on stdin; prints seconds and VmHWM in KB.</summary>
    private static int BackupOnly(string[] args)
    {
        string secret = Console.In.ReadLine() ?? "";
        var o = new DeisS3Options { GatewayUri = new Uri(args[1]), AccessKey = Access, SecretKey = Secure(secret), Parallelism = int.Parse(args[3], CultureInfo.InvariantCulture) };
        var sw = Stopwatch.StartNew();
        DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = o, IncludeVolume = false, Directory = args[2] }, args.Contains("--verbose") ? new TimedContext() : SilentContext.Instance);
        long hwm = File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:")).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault();
        Console.WriteLine($"BENCH-RESULT {sw.Elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)} {hwm}");
        return 0;
    }

    private static long Fill(DeisS3Options o, int small, int smallKb, int large, int largeMb)
    {
        using var s3 = DeisStore.Client(o);
        foreach (var b in DeisStore.DefaultBuckets) s3.PutBucketAsync(b).GetAwaiter().GetResult();
        var rnd = new Random(7);
        long total = 0;
        void Put(string bucket, string key, int size)
        {
            var data = new byte[size];
            rnd.NextBytes(data);
            s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(data), UseChunkEncoding = false }).GetAwaiter().GetResult();
            total += size;
        }
        Put("db_wal", "basebackups_005/empty", 0);
        Put("db_wal", "wal_005/000000010000000000000001", 1000);
        for (int i = 0; i < small; i++) Put("registry", $"registry/images/{i:x6}/layer", smallKb * 1024);
        for (int i = 0; i < large; i++) Put(i % 2 == 0 ? "db_wal" : "registry", $"big/{i}", largeMb * 1024 * 1024);
        return total;
    }

    /// <summary>Prints every verbose line with the seconds since the backup began (a stage breakdown).</summary>
    private sealed class TimedContext : IOperationContext
    {
        private readonly Stopwatch _sw = Stopwatch.StartNew();
        public Decision ShouldProcess(string target, string action) { Console.WriteLine($"  {_sw.Elapsed.TotalSeconds,6:0.00} s  step: {action}"); return Decision.Proceed; }
        public void WriteVerbose(string message) => Console.WriteLine($"  {_sw.Elapsed.TotalSeconds,6:0.00} s  {message}");
        public void WriteWarning(string message) => Console.WriteLine($"  {_sw.Elapsed.TotalSeconds,6:0.00} s  WARNING {message}");
        public void WriteDebug(string message) { }
        public void WriteProgress(ProgressInfo progress) { if (progress.Completed) Console.WriteLine($"  {_sw.Elapsed.TotalSeconds,6:0.00} s  done: {progress.Activity}"); }
        public System.Threading.CancellationToken Cancellation => default;
    }

    private static double Median(List<double> xs) { var s = xs.OrderBy(x => x).ToList(); return s.Count == 0 ? double.NaN : s[s.Count / 2]; }
    private static int Arg(string[] a, string name, int dflt) { int i = Array.IndexOf(a, name); return i >= 0 && i + 1 < a.Length ? int.Parse(a[i + 1], CultureInfo.InvariantCulture) : dflt; }
    private static SecureString Secure(string s) { var ss = new SecureString(); foreach (var c in s) ss.AppendChar(c); return ss; }

    private static string FindRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "ClusterDR.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("ClusterDR.sln not found");
    }

    private static void Run(string file, string stdin, params string[] args) => RunOut(file, stdin, args);

    private static string RunOut(string file, string stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        if (stdin != null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        var outp = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(" ", args)} failed ({p.ExitCode}): {err.Result}{outp}");
        return outp;
    }
}
