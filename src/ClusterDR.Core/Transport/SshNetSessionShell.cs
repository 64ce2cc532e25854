using System;
using System.IO;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace ClusterDR.Transport
{
    /// <summary>
    /// Drives a Posh-SSH session (the SSH.SshSession that New-SSHSession returns; its public member
    /// "Session" is a Renci.SshNet.SshClient) through reflection, so the module neither compiles
    /// against SSH.NET nor ships a second copy of it. Works with SSH.NET before and after 2024.1
    /// (ExitStatus int vs int?); stdin streaming needs SshCommand.CreateInputStream (2024.1+).
    /// </summary>
    public sealed class SshNetSessionShell : IRemoteShell
    {
        private readonly object _client;
        private readonly string _node;

        public SshNetSessionShell(object sshSession)
        {
            if (sshSession == null) throw Unsupported("null", "no session was given");
            _client = UnwrapClient(sshSession);
            _node = DescribeHost(sshSession, _client);
            var connected = _client.GetType().GetProperty("IsConnected");
            if (connected != null && connected.GetValue(_client) is bool ok && !ok)
                throw new ClusterDrException(ErrorIds.SshConnectionFailed, ErrorKind.ConnectionError, $"The SSH session to {_node} is not connected.", _node);
        }

        public string Node => _node;

        /// <summary>Accepts an SSH.SshSession (field or property "Session") or an SshClient-shaped object itself.</summary>
        internal static object UnwrapClient(object session)
        {
            object o = session;
            // PowerShell hands over PSObject wrappers; their BaseObject is the real thing.
            var baseObject = o.GetType().GetProperty("BaseObject");
            if (baseObject != null && o.GetType().FullName == "System.Management.Automation.PSObject") o = baseObject.GetValue(o);
            var t = o.GetType();
            if (t.GetMethod("CreateCommand", new[] { typeof(string) }) != null) return o;
            object inner = t.GetField("Session")?.GetValue(o) ?? t.GetProperty("Session")?.GetValue(o);
            if (inner != null && inner.GetType().GetMethod("CreateCommand", new[] { typeof(string) }) != null) return inner;
            throw Unsupported(t.FullName, "it has no SSH.NET client in a 'Session' member and no CreateCommand(string) method");
        }

        private static string DescribeHost(object session, object client)
        {
            string host = session.GetType().GetProperty("Host")?.GetValue(session) as string;
            if (host == null)
            {
                var info = client.GetType().GetProperty("ConnectionInfo")?.GetValue(client);
                host = info?.GetType().GetProperty("Host")?.GetValue(info) as string;
            }
            return "ssh-session:" + (host ?? "unknown");
        }

        public int Run(string script, Stream stdin, Stream stdout, Stream stderr, CancellationToken ct)
        {
            string commandLine = "sh -c " + Sh.Quote(script);
            DebugLog.Command(Node + " (SSH.NET session)", commandLine);
            var cmd = _client.GetType().GetMethod("CreateCommand", new[] { typeof(string) }).Invoke(_client, new object[] { commandLine });
            var ct_ = cmd.GetType();
            try
            {
                var createInput = ct_.GetMethod("CreateInputStream", Type.EmptyTypes);
                if (stdin != null && createInput == null)
                    throw Unsupported(ct_.FullName, "this SSH.NET version cannot stream standard input (SshCommand.CreateInputStream arrived in SSH.NET 2024.1); update Posh-SSH or use -Node with OpenSSH");
                var begin = ct_.GetMethod("BeginExecute", Type.EmptyTypes);
                var end = ct_.GetMethod("EndExecute", new[] { typeof(IAsyncResult) });
                if (begin == null || end == null) throw Unsupported(ct_.FullName, "it lacks BeginExecute/EndExecute");
                var async = (IAsyncResult)Invoke(begin, cmd);
                using (Safety.CancellationScope.Effective(ct).Register(() => { try { ct_.GetMethod("CancelAsync", Type.EmptyTypes)?.Invoke(cmd, null); } catch { } }))
                {
                    Task input = Task.CompletedTask;
                    if (createInput != null)
                    {
                        var remoteIn = (Stream)Invoke(createInput, cmd);
                        input = Task.Run(() =>
                        {
                            try { stdin?.CopyTo(remoteIn, 32768); }
                            finally { remoteIn.Dispose(); }
                        });
                    }
                    var outStream = (Stream)ct_.GetProperty("OutputStream").GetValue(cmd);
                    var errStream = (Stream)ct_.GetProperty("ExtendedOutputStream").GetValue(cmd);
                    var error = Task.Run(() => errStream.CopyTo(stderr ?? Stream.Null, 16384));
                    outStream.CopyTo(stdout ?? Stream.Null, 81920);
                    Invoke(end, cmd, async);
                    try { Task.WaitAll(input, error); } catch (AggregateException ex) { throw ex.InnerException; }
                    Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
                    // int before SSH.NET 2024.1, int? since: null means the server sent no status.
                    object status = ct_.GetProperty("ExitStatus").GetValue(cmd);
                    return status == null ? -1 : Convert.ToInt32(status);
                }
            }
            finally
            {
                (cmd as IDisposable)?.Dispose();
            }
        }

        private static object Invoke(MethodInfo m, object target, params object[] args)
        {
            try { return m.Invoke(target, args.Length == 0 ? null : args); }
            catch (TargetInvocationException ex) when (ex.InnerException != null)
            {
                throw new ClusterDrException(ErrorIds.SshConnectionFailed, ErrorKind.ConnectionError, "The SSH session failed: " + ex.InnerException.Message, null, ex.InnerException);
            }
        }

        private static ClusterDrException Unsupported(string type, string why) =>
            new ClusterDrException(ErrorIds.SshSessionUnsupported, ErrorKind.InvalidArgument,
                $"Cannot use {type} as an SSH session: {why}. Pass the object New-SSHSession returns.", type);

        public void Dispose() { /* the session belongs to the caller (Remove-SSHSession) */ }
    }
}
