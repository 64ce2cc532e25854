using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ClusterDR.Transport
{
    /// <summary>
    /// Runs a local program with the three standard streams pumped concurrently: stdin and stderr
    /// on worker tasks, stdout on the caller's thread (so progress callbacks stay on that thread).
    /// Shared by the local shell and the OpenSSH client.
    /// </summary>
    public abstract class ProcessShell : IRemoteShell
    {
        public abstract string Node { get; }

        /// <summary>The program and arguments that run <paramref name="script"/>.</summary>
        protected abstract (string FileName, IList<string> Args) Launch(string script);

        public virtual int Run(string script, Stream stdin, Stream stdout, Stream stderr, CancellationToken ct)
        {
            var (file, args) = Launch(script);
            string arguments = Sh.ProcessArguments(args);
            DebugLog.Command(Node, file + " " + arguments);
            var psi = new ProcessStartInfo(file, arguments)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
            };
            using (var p = new Process { StartInfo = psi })
            {
                try { p.Start(); }
                catch (Exception ex)
                {
                    throw new ClusterDrException(ErrorIds.RemoteCommandFailed, ErrorKind.ResourceUnavailable,
                        $"Cannot start '{file}' for node {Node}: {ex.Message}", Node, ex);
                }
                using (Safety.CancellationScope.Effective(ct).Register(() => KillTree(p)))
                {
                    var input = Task.Run(() =>
                    {
                        try
                        {
                            if (stdin != null) stdin.CopyTo(p.StandardInput.BaseStream, 81920);
                        }
                        catch (IOException) { /* the command closed its stdin early: its exit code tells */ }
                        finally { try { p.StandardInput.Close(); } catch { } }
                    });
                    var error = Task.Run(() =>
                    {
                        if (stderr != null) p.StandardError.BaseStream.CopyTo(stderr, 16384);
                        else p.StandardError.BaseStream.CopyTo(Stream.Null);
                    });
                    Exception outputFailure = null;
                    try
                    {
                        p.StandardOutput.BaseStream.CopyTo(stdout ?? Stream.Null, 81920);
                    }
                    catch (Exception ex)
                    {
                        // The local sink failed (disk full, hash mismatch): stop the command, then report.
                        outputFailure = ex;
                        KillTree(p);
                    }
                    p.WaitForExit();
                    try { Task.WaitAll(input, error); } catch (AggregateException) { }
                    Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
                    if (outputFailure != null)
                    {
                        if (outputFailure is ClusterDrException) throw outputFailure;
                        throw new ClusterDrException(ErrorIds.RemoteCommandFailed, ErrorKind.WriteError,
                            $"Reading the output of a command on {Node} failed: {outputFailure.Message}", Node, outputFailure);
                    }
                    if (error.IsFaulted && error.Exception != null)
                        throw error.Exception.InnerException ?? error.Exception;
                    return p.ExitCode;
                }
            }
        }

        private static readonly System.Reflection.MethodInfo KillEntireTree = typeof(Process).GetMethod("Kill", new[] { typeof(bool) });

        /// <summary>
        /// Kills the shell and what it started (a child like tar or sleep would otherwise keep the
        /// output pipe open): Process.Kill(true) where the runtime has it (.NET Core 3+), else the shell.
        /// </summary>
        private static void KillTree(Process p)
        {
            try
            {
                if (p.HasExited) return;
                if (KillEntireTree != null) KillEntireTree.Invoke(p, new object[] { true });
                else p.Kill();
            }
            catch { /* it exited meanwhile */ }
        }

        public virtual void Dispose() { }
    }
}
