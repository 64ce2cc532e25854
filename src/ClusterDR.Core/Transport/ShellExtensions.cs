using System.IO;
using System.Text;
using System.Threading;

namespace ClusterDR.Transport
{
    public static class ShellExtensions
    {
        /// <summary>Runs a script and captures its output as text (for small outputs: status, JSON).</summary>
        public static CommandResult RunText(this IRemoteShell shell, string script, string stdin, CancellationToken ct)
        {
            using (var input = stdin == null ? null : new MemoryStream(Encoding.UTF8.GetBytes(stdin)))
            using (var output = new MemoryStream())
            using (var error = new MemoryStream())
            {
                var errorSink = Stream.Synchronized(error);
                int code = shell.Run(script, input, output, errorSink, ct);
                return new CommandResult(code, Encoding.UTF8.GetString(output.ToArray()), Encoding.UTF8.GetString(error.ToArray()));
            }
        }

        /// <summary>Runs a script and throws RemoteCommandFailed (with stderr's tail) unless it exits 0.</summary>
        public static CommandResult RunChecked(this IRemoteShell shell, string what, string script, CancellationToken ct, string stdin = null)
        {
            var result = shell.RunText(script, stdin, ct);
            if (result.ExitCode != 0) throw Failed(shell, what, result.ExitCode, result.StdErr);
            return result;
        }

        /// <summary>Streams stdin into a command and throws unless it exits 0.</summary>
        public static void RunStreaming(this IRemoteShell shell, string what, string script, Stream stdin, Stream stdout, CancellationToken ct)
        {
            using (var error = new MemoryStream())
            {
                int code = shell.Run(script, stdin, stdout, Stream.Synchronized(error), ct);
                if (code != 0) throw Failed(shell, what, code, Encoding.UTF8.GetString(error.ToArray()));
            }
        }

        public static ClusterDrException Failed(IRemoteShell shell, string what, int exitCode, string stderr)
        {
            string tail = (stderr ?? "").Trim();
            if (tail.Length > 1500) tail = "…" + tail.Substring(tail.Length - 1500);
            return new ClusterDrException(ErrorIds.RemoteCommandFailed, ErrorKind.InvalidOperation,
                $"{what} on {shell.Node} failed with exit code {exitCode}{(tail.Length > 0 ? ": " + tail : ".")}", shell.Node);
        }
    }
}
