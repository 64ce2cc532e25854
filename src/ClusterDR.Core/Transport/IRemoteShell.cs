using System;
using System.IO;
using System.Threading;

namespace ClusterDR.Transport
{
    /// <summary>
    /// Runs a POSIX sh script on one node with streamed stdin/stdout/stderr. Streams are copied as
    /// they flow, so a remote tar goes straight into a local archive without staging in memory.
    /// Secrets travel on stdin, never in the script text (which may show in `ps` on either side).
    /// </summary>
    public interface IRemoteShell : IDisposable
    {
        /// <summary>What to call the node in messages and ShouldProcess targets.</summary>
        string Node { get; }

        /// <summary>
        /// Runs <paramref name="script"/> under sh. <paramref name="stdin"/> may be null (empty input).
        /// <paramref name="stdout"/> is written on the calling thread; <paramref name="stderr"/> may be
        /// written from another thread. Returns the exit code.
        /// </summary>
        int Run(string script, Stream stdin, Stream stdout, Stream stderr, CancellationToken ct);
    }

    public sealed class CommandResult
    {
        public CommandResult(int exitCode, string stdout, string stderr) { ExitCode = exitCode; StdOut = stdout; StdErr = stderr; }
        public int ExitCode { get; }
        public string StdOut { get; }
        public string StdErr { get; }
    }
}
