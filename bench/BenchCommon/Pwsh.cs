using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ClusterDR.Bench.Common
{
    /// <summary>
    /// Runs PowerShell scripts the way users do: `pwsh -NoProfile -NonInteractive -File SCRIPT ARGS`, with the
    /// built module first on PSModulePath and its manifest in $env:CLUSTERDR_BENCH_MODULE (scripts made by
    /// <see cref="Script"/> import it from there, so no other installed copy can be picked up).
    /// </summary>
    public sealed class Pwsh
    {
        public const string ModuleVariable = "CLUSTERDR_BENCH_MODULE";

        /// <summary>The program and the arguments before -NoProfile (`dotnet pwsh.dll` for the NuGet tool).</summary>
        public string File { get; }
        public IReadOnlyList<string> Prefix { get; }
        public string ModuleManifest { get; }
        public string Description { get; }

        public Pwsh(string file, IEnumerable<string> prefix, string moduleManifest, string description)
        {
            File = file; Prefix = prefix.ToList(); ModuleManifest = Path.GetFullPath(moduleManifest); Description = description;
            if (!System.IO.File.Exists(ModuleManifest)) throw new FileNotFoundException("The module is not built (./build.sh build)", ModuleManifest);
        }

        /// <summary>
        /// The pwsh to use: <paramref name="given"/>, else the NuGet tool under REPO/out/tools/pwsh run as
        /// `dotnet pwsh.dll` (its `pwsh` shim would add a second .NET process that an installed pwsh does not
        /// have), else `pwsh` on PATH. The module: <paramref name="module"/> or REPO/out/ClusterDR/ClusterDR.psd1.
        /// </summary>
        public static Pwsh Find(string repoRoot, string given = null, string module = null)
        {
            module = module ?? Path.Combine(repoRoot, "out", "ClusterDR", "ClusterDR.psd1");
            if (given != null) return new Pwsh(given, new string[0], module, given);
            string store = Path.Combine(repoRoot, "out", "tools", "pwsh", ".store");
            if (Directory.Exists(store))
            {
                string dll = Directory.EnumerateFiles(store, "pwsh.dll", SearchOption.AllDirectories)
                    .Where(f => f.Replace('\\', '/').Contains("/unix/")).OrderBy(f => f).LastOrDefault();
                if (dll != null) return new Pwsh("dotnet", new[] { dll }, module, "dotnet " + dll);
            }
            string onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "pwsh")).FirstOrDefault(System.IO.File.Exists);
            if (onPath != null) return new Pwsh(onPath, new string[0], module, onPath);
            throw new FileNotFoundException("No pwsh: run ./build.sh build (it installs PowerShell 7 into out/tools) or pass --pwsh.");
        }

        /// <summary>The directory holding the repository (the first above <paramref name="start"/> with <paramref name="marker"/>).</summary>
        public static string RepoRoot(string marker = "build.sh", params string[] starts)
        {
            foreach (var start in starts.Length > 0 ? starts : new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
                for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                    if (System.IO.File.Exists(Path.Combine(d.FullName, marker)) && Directory.Exists(Path.Combine(d.FullName, "src"))) return d.FullName;
            throw new DirectoryNotFoundException("The repository root (with " + marker + ") was not found above the current directory.");
        }

        /// <summary>A script file: <paramref name="param"/> (a param() block must come first), the module import, then <paramref name="body"/>. Errors stop the script with exit code 1.</summary>
        public static string Script(string dir, string name, string body, string param = null)
        {
            Directory.CreateDirectory(dir);
            string path = Path.Combine(dir, name);
            System.IO.File.WriteAllText(path,
                (param != null ? param.Trim() + "\n" : "") +
                "$ErrorActionPreference = 'Stop'\n" +
                "$ProgressPreference = 'SilentlyContinue'\n" +
                "Import-Module -Name $env:" + ModuleVariable + "\n" +
                body.TrimEnd() + "\n");
            return path;
        }

        /// <summary>The command for `pwsh -NoProfile -NonInteractive -File SCRIPT ARGS`.</summary>
        public Command Command(string script, params string[] args)
        {
            var c = new Command(File);
            c.Args.AddRange(Prefix);
            c.Args.AddRange(new[] { "-NoProfile", "-NonInteractive", "-File", script });
            c.Args.AddRange(args);
            c.Env[ModuleVariable] = ModuleManifest;
            string modules = Path.GetDirectoryName(Path.GetDirectoryName(ModuleManifest));
            string old = Environment.GetEnvironmentVariable("PSModulePath");
            c.Env["PSModulePath"] = string.IsNullOrEmpty(old) ? modules : modules + ":" + old;
            c.Env["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
            c.Env["NO_COLOR"] = "1"; // plain error text in reports
            c.Env["POWERSHELL_UPDATECHECK"] = "Off";
            c.Env["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            return c;
        }

        public Measurement Run(string script, IReadOnlyDictionary<string, int> watch, CancellationToken ct, params string[] args) =>
            Meter.Run(Command(script, args), watch, ct);

        /// <summary>
        /// "pwsh start + Import-Module ClusterDR" alone (a script that imports and reads its own /proc status),
        /// with pwsh's own resident memory and high-water mark at that point: the baseline for a cmdlet's figures.
        /// </summary>
        public StartupCost MeasureStartup(string scriptDir, int rounds, CancellationToken ct)
        {
            // One .NET call after the import, no pipeline: reading the figure should not itself grow the process.
            string only = Script(scriptDir, "import-only.ps1",
                "$s = [IO.File]::ReadAllText(\"/proc/$PID/status\")\n" +
                "'IDLE ' + [regex]::Match($s, 'VmRSS:\\s*(\\d+)').Groups[1].Value + ' ' + [regex]::Match($s, 'VmHWM:\\s*(\\d+)').Groups[1].Value");
            var cost = new StartupCost();
            Run(only, null, ct); // warm-up: the first start after a build fills the page cache
            for (int i = 0; i < rounds; i++)
            {
                var m = Run(only, null, ct);
                cost.Runs.Add(m);
                var line = m.Stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("IDLE ", StringComparison.Ordinal));
                if (line != null)
                {
                    var f = line.Split(' ');
                    cost.IdleRssKb.Add(long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));
                    cost.ImportHwmKb.Add(long.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            System.IO.File.Delete(only);
            return cost;
        }
    }

    /// <summary>Cost of `pwsh -File` that only imports the module; pwsh's resident memory right after the import and its high-water mark.</summary>
    public sealed class StartupCost
    {
        public List<Measurement> Runs = new List<Measurement>();
        public List<long> IdleRssKb = new List<long>(), ImportHwmKb = new List<long>();
        public double MedianWallS => Stats.Median(Runs.Select(r => r.WallS));
        public double MedianCpuS => Stats.Median(Runs.Select(r => r.CpuS));
        public double MedianPeakRssKb => Stats.Median(Runs.Select(r => r.PeakRssKb));
        public double MedianIdleRssKb => Stats.Median(IdleRssKb);
        public double MedianImportHwmKb => Stats.Median(ImportHwmKb);
    }
}
