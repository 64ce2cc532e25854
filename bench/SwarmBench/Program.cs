using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using ClusterDR.Safety;
using ClusterDR.Swarm;
using ClusterDR.Transport;

// Backup-SwarmManager's downtime window (stop → Docker answers again) and Restore-SwarmManager's
// restore-to-ready time against the same steps by hand (systemd-style stop/start commands, tar,
// docker swarm init --force-new-cluster), on one real dockerd in a loopback-only network namespace
// (tests/tools/swarm-node.sh), in one run. Prints a markdown table; bench/SWARM.md keeps a result.
static class Program
{
    static string Root;
    static string Tool;
    static string Dir;
    static string DockerHost;

    static int Main(string[] args)
    {
        int runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        Root = FindRoot();
        Tool = Path.Combine(Root, "tests", "tools", "swarm-node.sh");
        Dir = Path.Combine(Path.GetTempPath(), "clusterdr-swarmbench-" + Guid.NewGuid().ToString("N").Substring(0, 6));
        DockerHost = Sh("sh " + Tool + " start " + Dir).Trim().Split('\n').Last();
        try
        {
            Docker("swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377");
            Populate();
            var o = new SwarmNodeOptions
            {
                DockerHost = DockerHost, DataRoot = Dir + "/root", StopCommand = "sh " + Dir + "/stop.sh", StartCommand = "sh " + Dir + "/start.sh",
            };
            string objects = Objects();
            var out1 = Path.Combine(Dir, "out");
            var cdrDown = new List<double>(); var handDown = new List<double>(); var handDownPlain = new List<double>();
            var cdrRestore = new List<double>(); var handRestore = new List<double>();
            string lastBackup = null;
            using (var sh = new LocalShell())
            {
                for (int i = 0; i < runs; i++)
                {
                    var b = SwarmBackup.Run(new SwarmBackupRequest { Shell = sh, Options = o, Directory = out1, Force = true, Label = "run" + i }, SilentContext.Instance);
                    cdrDown.Add(double.Parse((string)b.Facts["downtimeSeconds"], CultureInfo.InvariantCulture));
                    lastBackup = b.Path;
                    WaitManager();
                    handDown.Add(Time(() => { Sh($"sh {Dir}/stop.sh; tar -C {Dir}/root -czf {Dir}/hand-{i}.tar.gz swarm; sh {Dir}/start.sh"); WaitDaemon(); }));
                    WaitManager();
                    handDownPlain.Add(Time(() => { Sh($"sh {Dir}/stop.sh; tar -C {Dir}/root -cf {Dir}/hand-{i}.tar swarm; sh {Dir}/start.sh"); WaitDaemon(); }));
                    WaitManager();
                }
                for (int i = 0; i < runs; i++)
                {
                    Docker("swarm leave --force");
                    cdrRestore.Add(Time(() => SwarmRestore.Run(new SwarmRestoreRequest
                    {
                        BackupPath = lastBackup, Shell = sh, Options = o, AdvertiseAddress = "127.0.0.1", ListenAddress = "127.0.0.1:2377",
                    }, SilentContext.Instance)));
                    if (Objects() != objects) throw new InvalidOperationException("ClusterDR restore lost objects");
                    Sh($"rm -rf {Dir}/root/swarm.clusterdr-*");
                    Docker("swarm leave --force");
                    handRestore.Add(Time(() =>
                    {
                        Sh($"sh {Dir}/stop.sh; rm -rf {Dir}/root/swarm.old; mv {Dir}/root/swarm {Dir}/root/swarm.old; tar -C {Dir}/root -xzf {Dir}/hand-0.tar.gz; sh {Dir}/start.sh");
                        WaitDaemon();
                        Docker("swarm init --force-new-cluster --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377");
                        WaitManager();
                        while (Objects() != objects) System.Threading.Thread.Sleep(50);
                    }));
                }
            }
            Console.WriteLine($"dockerd {Docker("version --format {{.Server.Version}}")}, swarm with {Objects().Split(',').Length} objects, state dir {Sh($"du -sk {Dir}/root/swarm").Split('\t')[0]} KB, {runs} runs each, medians:");
            Console.WriteLine();
            Console.WriteLine("| measure | ClusterDR | by hand | ratio |");
            Console.WriteLine("|---|---|---|---|");
            Row("backup: manager down (stop → daemon answers), vs `tar -czf`", cdrDown, handDown);
            Row("backup: manager down, vs uncompressed `tar -cf`", cdrDown, handDownPlain);
            Row("restore to ready (stop → objects listed)", cdrRestore, handRestore);
            return 0;
        }
        finally { Sh("sh " + Tool + " stop " + Dir); }
    }

    static void Row(string what, List<double> a, List<double> b)
    {
        double ma = Median(a), mb = Median(b);
        Console.WriteLine($"| {what} | {ma:0.000} s | {mb:0.000} s | {ma / mb:0.00} |");
    }

    static double Median(List<double> x) { var s = x.OrderBy(v => v).ToList(); return s[s.Count / 2]; }

    static double Time(Action a) { var sw = Stopwatch.StartNew(); a(); return sw.Elapsed.TotalSeconds; }

    static void WaitDaemon() { while (Run("DOCKER_HOST=" + DockerHost + " docker version >/dev/null 2>&1").Code != 0) System.Threading.Thread.Sleep(20); }

    static void WaitManager()
    {
        while (Run("DOCKER_HOST=" + DockerHost + " docker node ls >/dev/null 2>&1").Code != 0) System.Threading.Thread.Sleep(20);
    }

    static void Populate()
    {
        var img = Path.Combine(Dir, "img");
        Directory.CreateDirectory(Path.Combine(img, "bin"));
        File.Copy("/usr/bin/busybox", Path.Combine(img, "bin", "busybox"));
        Sh($"tar -C {img} -cf {Dir}/busybox.tar . && DOCKER_HOST={DockerHost} docker import {Dir}/busybox.tar clusterdr/busybox:1");
        for (int i = 0; i < 10; i++)
        {
            Sh($"echo s{i} | DOCKER_HOST={DockerHost} docker secret create secret{i} -; echo c{i} | DOCKER_HOST={DockerHost} docker config create config{i} -");
            Docker($"service create --detach --name svc{i} --replicas 0 clusterdr/busybox:1 /bin/busybox true");
        }
        Docker("network create -d overlay ov1");
    }

    static string Objects() => string.Join(",", new[] { "service", "secret", "config" }.SelectMany(k => Docker(k + " ls --format {{.Name}}").Split('\n').OrderBy(x => x))
        .Concat(Docker("network ls --filter scope=swarm --format {{.Name}}").Split('\n').OrderBy(x => x)));

    static string Docker(string args) => Sh("DOCKER_HOST=" + DockerHost + " docker " + args).Trim();

    static string Sh(string script)
    {
        var r = Run(script);
        if (r.Code != 0) throw new InvalidOperationException($"{script}: {r.Err}");
        return r.Out;
    }

    static (int Code, string Out, string Err) Run(string script)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(script);
        using var p = Process.Start(psi);
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }

    static string FindRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "ClusterDR.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("ClusterDR.sln not found");
    }
}
