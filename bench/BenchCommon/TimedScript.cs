using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;

namespace ClusterDR.Bench.Common
{
    /// <summary>
    /// One measured `pwsh -File SCRIPT -Spec SPEC.json -Result RESULT.json` run, split by the script's own
    /// Stopwatch timestamps (started, imported, done; CLOCK_MONOTONIC, the same clock as this process's):
    /// pwsh start, Import-Module, the cmdlet, and pwsh's exit.
    /// </summary>
    public sealed class ScriptRun
    {
        public Measurement M;
        public double PwshStartS, ImportS, CmdletS, ExitS;
        /// <summary>From the spawn until the cmdlet returned (e.g. a restore's "serving").</summary>
        public double UntilDoneS;
        /// <summary>The pwsh process's own VmRSS right after Import-Module and its VmHWM after the cmdlet (KB).</summary>
        public long RssImportedKb = -1, HwmKb = -1;
        /// <summary>RESULT.json as the script wrote it.</summary>
        public JsonElement Result;

        public string Str(string name) => Result.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        public long Long(string name) => Result.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : -1;

        /// <summary>A string fact of the backup's manifest (the script writes $backup.Facts as "facts").</summary>
        public string Fact(string name) =>
            Result.TryGetProperty("facts", out var f) && f.ValueKind == JsonValueKind.Object && f.TryGetProperty(name, out var v) ? v.ToString() : null;
    }

    /// <summary>One measured by-hand procedure (a sh script) that prints "MARK name unix-seconds" after its steps.</summary>
    public sealed class ManualRun
    {
        public Measurement M;
        /// <summary>Seconds from the spawn to each MARK, in order.</summary>
        public List<KeyValuePair<string, double>> Marks = new List<KeyValuePair<string, double>>();
        public double Mark(string name) => Marks.Where(k => k.Key == name).Select(k => k.Value).DefaultIfEmpty(double.NaN).First();
    }

    public static class TimedScript
    {
        private static int _n;

        /// <summary>
        /// Writes <paramref name="spec"/> as JSON next to the result file in <paramref name="dir"/>, runs the
        /// script through <paramref name="pwsh"/> and reads back the result. <paramref name="stdin"/> is for
        /// secrets (the script reads them from [Console]::In; never on a command line or in the spec file).
        /// </summary>
        public static ScriptRun Run(Pwsh pwsh, string script, object spec, string dir, CancellationToken ct,
            string stdin = null, IEnumerable<string> ignoreComm = null, TimeSpan? timeout = null)
        {
            Directory.CreateDirectory(dir);
            int n = Interlocked.Increment(ref _n);
            string specFile = Path.Combine(dir, $"spec-{n}.json"), resultFile = Path.Combine(dir, $"result-{n}.json");
            File.WriteAllText(specFile, JsonSerializer.Serialize(spec));
            try
            {
                var c = pwsh.Command(script, "-Spec", specFile, "-Result", resultFile);
                c.Stdin = stdin;
                if (timeout.HasValue) c.Timeout = timeout.Value;
                foreach (var comm in ignoreComm ?? Enumerable.Empty<string>()) c.IgnoreComm.Add(comm);
                long t0 = Stopwatch.GetTimestamp();
                var m = Meter.Run(c, null, ct);
                var r = new ScriptRun { M = m };
                using (var doc = JsonDocument.Parse(File.ReadAllText(resultFile))) r.Result = doc.RootElement.Clone();
                double S(long ticks) => ticks / (double)Stopwatch.Frequency;
                long started = r.Long("started"), imported = r.Long("imported"), done = r.Long("done");
                r.PwshStartS = S(started - t0);
                r.ImportS = S(imported - started);
                r.CmdletS = S(done - imported);
                r.UntilDoneS = S(done - t0);
                r.ExitS = m.WallS - r.UntilDoneS;
                r.RssImportedKb = r.Long("rssImportedKb");
                r.HwmKb = r.Long("hwmKb");
                return r;
            }
            finally
            {
                File.Delete(specFile);
                File.Delete(resultFile);
            }
        }

        /// <summary>Runs a by-hand procedure and turns its "MARK name unix-seconds" lines into seconds since the spawn.</summary>
        public static ManualRun Manual(Command c, CancellationToken ct, IEnumerable<string> ignoreComm = null)
        {
            foreach (var comm in ignoreComm ?? Enumerable.Empty<string>()) c.IgnoreComm.Add(comm);
            double t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            var m = Meter.Run(c, null, ct);
            var run = new ManualRun { M = m };
            foreach (var line in m.Stdout.Split('\n'))
            {
                var f = line.Trim().Split(' ');
                if (f.Length == 3 && f[0] == "MARK" && double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double t))
                    run.Marks.Add(new KeyValuePair<string, double>(f[1], t - t0));
            }
            return run;
        }
    }
}
