using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace ClusterDR.Bench.Common
{
    /// <summary>Linux /proc readers. Every reader returns -1 / NaN for a process that is gone instead of throwing.</summary>
    public static class Proc
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
        public static readonly long PageBytes = Environment.SystemPageSize;

        /// <summary>A "Field:  N kB" line of /proc/PID/status (VmRSS, VmHWM...), in KB.</summary>
        public static long StatusKb(int pid, string field) => StatusKb($"/proc/{pid}/status", field);
        public static long SelfStatusKb(string field) => StatusKb("/proc/self/status", field);

        public static long StatusKb(string statusFile, string field)
        {
            try
            {
                foreach (var line in File.ReadLines(statusFile))
                    if (line.StartsWith(field + ":", StringComparison.Ordinal))
                        return long.Parse(line.Substring(field.Length + 1).Trim().Split(' ')[0], Inv);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is FormatException) { }
            return -1;
        }

        /// <summary>Resident KB from /proc/PID/statm (one short read: cheap enough to sample every few ms).</summary>
        public static long RssKb(int pid)
        {
            try
            {
                string s = File.ReadAllText($"/proc/{pid}/statm");
                return long.Parse(s.Split(' ')[1], Inv) * PageBytes / 1024;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is FormatException || ex is IndexOutOfRangeException) { return -1; }
        }

        /// <summary>Fields of /proc/PID/stat after the command name; index 0 is field 3 (state).</summary>
        private static string[] Stat(int pid)
        {
            try
            {
                string s = File.ReadAllText($"/proc/{pid}/stat");
                return s.Substring(s.LastIndexOf(')') + 2).Split(' ');
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return null; }
        }

        /// <summary>utime+stime of a process itself (not its children), in seconds (USER_HZ = 100).</summary>
        public static double CpuS(int pid)
        {
            var f = Stat(pid);
            if (f == null) return double.NaN;
            return (long.Parse(f[11], Inv) + long.Parse(f[12], Inv)) / 100.0;
        }

        /// <summary>The parent's PID (field 4 of /proc/PID/stat), -1 when the process is gone.</summary>
        public static int ParentPid(int pid)
        {
            var f = Stat(pid);
            return f == null ? -1 : int.Parse(f[1], Inv);
        }

        /// <summary>The program the process runs (/proc/PID/exe), null when it is gone or not readable.</summary>
        public static string Exe(int pid)
        {
            try { return new FileInfo($"/proc/{pid}/exe").LinkTarget; }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return null; }
        }

        public static bool IsAlive(int pid)
        {
            var f = Stat(pid);
            return f != null && f[0] != "Z";
        }

        public static string Comm(int pid)
        {
            try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return null; }
        }

        /// <summary>Direct children of every thread of PID (/proc/PID/task/TID/children).</summary>
        public static IEnumerable<int> Children(int pid)
        {
            string[] tasks;
            try { tasks = Directory.GetDirectories($"/proc/{pid}/task"); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { yield break; }
            foreach (var t in tasks)
            {
                string s;
                try { s = File.ReadAllText(Path.Combine(t, "children")); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { continue; }
                foreach (var c in s.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    if (int.TryParse(c, NumberStyles.None, Inv, out int n)) yield return n;
            }
        }

        /// <summary>PID and all its descendants that are alive now.</summary>
        public static List<int> Tree(int pid)
        {
            var all = new List<int>();
            var todo = new Stack<int>();
            todo.Push(pid);
            while (todo.Count > 0 && all.Count < 10000)
            {
                int p = todo.Pop();
                all.Add(p);
                foreach (var c in Children(p)) todo.Push(c);
            }
            return all;
        }

        /// <summary>Busy CPU seconds of the whole machine (all cores) since boot: user nice system irq softirq steal.</summary>
        public static double MachineBusyS()
        {
            var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long busy = 0;
            foreach (int i in new[] { 1, 2, 3, 6, 7, 8 }) busy += long.Parse(f[i], Inv);
            return busy / 100.0;
        }

        public static string LoadAvg() => File.ReadAllText("/proc/loadavg").Trim();

        /// <summary>This process's nice value (field 19 of /proc/self/stat).</summary>
        public static int Nice()
        {
            try
            {
                string s = File.ReadAllText("/proc/self/stat");
                return int.Parse(s.Substring(s.LastIndexOf(')') + 2).Split(' ')[16], Inv);
            }
            catch (Exception ex) when (ex is IOException || ex is FormatException) { return 0; }
        }
    }
}
