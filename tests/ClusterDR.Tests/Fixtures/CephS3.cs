using System;
using System.Diagnostics;
using System.IO;
using System.Security;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>A real one-node Ceph with radosgw (tests/tools/ceph-s3.sh), shared by one test class; stopped by PID.</summary>
    public sealed class CephS3 : IDisposable
    {
        public const string AccessKey = "CLUSTERDRTESTACCESS";
        public const string Secret = "clusterdr-test-secret-5f3a9c2e7b";

        public CephS3()
        {
            foreach (var p in new[] { "ceph-mon", "ceph-osd", "radosgw", "ceph" })
                TestEnv.Require(p, "apt-get install --no-install-recommends ceph-mon ceph-osd radosgw ceph-common");
            Dir = TestEnv.TempDir("ceph");
            Port = TestEnv.FreePorts(3);
            try { Script("start", Dir, Port.ToString(), AccessKey); }
            catch
            {
                // A constructor that throws gets no Dispose: stop what a start that failed half-way left running.
                Dispose();
                throw;
            }
        }

        public string Dir { get; }
        public int Port { get; }
        public Uri Gateway => new Uri($"http://127.0.0.1:{Port}");
        public string Conf => Path.Combine(Dir, "ceph.conf");
        public string CephCommand => "ceph -c " + Conf;

        public static SecureString SecretKey(string s = Secret)
        {
            var ss = new SecureString();
            foreach (var c in s) ss.AppendChar(c);
            return ss;
        }

        public void StopMon() => Script("stop-mon", Dir);
        public void StartMon() => Script("start-mon", Dir);

        private static void Script(params string[] args)
        {
            var psi = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add(TestEnv.Tool("ceph-s3.sh"));
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.StandardInput.WriteLine(Secret);
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            var outp = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"ceph-s3.sh {string.Join(" ", args)} failed ({p.ExitCode}): {err.Result}{outp}");
        }

        public void Dispose()
        {
            try { Script("stop", Dir); } catch { }
            try { Directory.Delete(Dir, true); } catch { }
        }
    }

    /// <summary>A private PostgreSQL (initdb as postgres, pg_ctl on a private port and socket dir), stopped by PID.</summary>
    public sealed class PgTestServer : IDisposable
    {
        public PgTestServer()
        {
            string bin = Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql")[0] + "/bin" : throw new InvalidOperationException("PostgreSQL is required: apt-get install postgresql");
            Bin = bin;
            Dir = TestEnv.TempDir("pg");
            Port = TestEnv.FreePorts(1);
            try
            {
                Shell.Run("chown", "postgres:postgres", Dir);
                Shell.Run("runuser", "-u", "postgres", "--", bin + "/initdb", "-D", Dir + "/data", "-U", "postgres", "--auth=trust", "-N");
                Shell.Run("runuser", "-u", "postgres", "--", bin + "/pg_ctl", "-D", Dir + "/data", "-w", "-l", Dir + "/pg.log", "-o", $"-p {Port} -k {Dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start");
            }
            catch
            {
                // A constructor that throws gets no Dispose: stop what a start that failed half-way left running.
                Dispose();
                throw;
            }
        }

        public string Bin { get; }
        public string Dir { get; }
        public int Port { get; }
        public string Psql(string db, string sql) => Shell.Run("psql", "-h", "127.0.0.1", "-p", Port.ToString(), "-U", "postgres", "-d", db, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql).Trim();
        public string DumpCommand => $"pg_dumpall -h 127.0.0.1 -p {Port} -U postgres";
        public string LoadCommand => $"psql -h 127.0.0.1 -p {Port} -U postgres -X -q -d postgres";

        public void Dispose()
        {
            try { Shell.Run("runuser", "-u", "postgres", "--", Bin + "/pg_ctl", "-D", Dir + "/data", "-m", "fast", "-w", "stop"); } catch { }
            try { Directory.Delete(Dir, true); } catch { }
        }
    }
}
