using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using ClusterDR.Tests.Fixtures;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Tests.Dcos
{
    public enum ExhibitorView { Serving, NotServing, TwoLeaders }

    /// <summary>
    /// DC/OS cannot run here. This is the backup service behind Admin Router as DESIGN.md describes it
    /// (and as DC/OS's own integration tests drive it), plus Exhibitor's status, on 127.0.0.1:
    /// - POST create {"label"} → backup_info {id: label-uuid, STATUS_BACKING_UP, components STATUS_UNKNOWN};
    ///   a create or restore while one runs → 500 errors ["… backup/restore is currently busy: lock is already held"].
    /// - GET list → {} when empty, else {"backup_info": [{id, status, component_status, restores: [...]}]}.
    ///   Each list moves running operations on: components to BACKING_UP/RESTORING, and after
    ///   <see cref="ListsToFinish"/> lists to STATUS_READY (STATUS_ERROR for <see cref="FailingLabel"/>,
    ///   and for restores of backups labelled <see cref="FailingRestoreLabel"/>).
    /// - POST restore {"id"} → backup_info {id of the restore, STATUS_RESTORING}; DELETE delete {"id"} → {},
    ///   400 for a restore id (or an unknown id).
    /// - 401 without "Authorization: token=…", 403 for a token other than <see cref="AdminToken"/>.
    /// - GET /exhibitor/exhibitor/v1/cluster/status: three servers, as <see cref="Exhibitor"/> says.
    /// Outside the contract, for a test in another process: GET /fake/requests, PUT /fake/exhibitor.
    /// </summary>
    public sealed class FakeDcos : IDisposable
    {
        public const string AdminToken = "fake-superuser-acs-token-31c1f0";
        public const string ReaderToken = "fake-reader-acs-token-9d2e77";
        public const string FailingLabel = "fails-in-marathon";
        public const string FailingRestoreLabel = "restore-fails";
        private const string Api = "/system/v1/backup/v1/";
        private const string Component = "marathon";

        private readonly object _gate = new object();
        private readonly List<Op> _backups = new List<Op>();
        private readonly List<string> _requests = new List<string>();
        private readonly HttpListener _listener;

        public FakeDcos()
        {
            (_listener, Uri) = LoopbackHttp.Serve(Answer);
        }

        public Uri Uri { get; }
        /// <summary>Exhibitor through Admin Router: pass as -ExhibitorUri.</summary>
        public Uri ExhibitorUri => new Uri(Uri, "exhibitor/");
        public ExhibitorView Exhibitor { get; set; } = ExhibitorView.Serving;
        public int ListsToFinish { get; set; } = 2;

        /// <summary>Every request to the DC/OS API and Exhibitor: "METHOD /path body".</summary>
        public IReadOnlyList<string> Requests { get { lock (_gate) return _requests.ToList(); } }
        public IReadOnlyList<string> StateChangingRequests => Requests.Where(r => !r.StartsWith("GET ", StringComparison.Ordinal)).ToList();

        private sealed class Op
        {
            public string Id, Label, Status;
            public string ComponentState = "STATUS_UNKNOWN", ComponentError;
            public int Lists;
            public bool Fails;
            public List<Op> Restores = new List<Op>();
            public bool Running => Status == "STATUS_BACKING_UP" || Status == "STATUS_RESTORING";
        }

        private (int, string) Answer(HttpListenerRequest r)
        {
            string path = r.Url!.AbsolutePath;
            string body = new StreamReader(r.InputStream).ReadToEnd();
            if (path.StartsWith("/fake/", StringComparison.Ordinal)) return Control(r.HttpMethod, path, body);
            lock (_gate)
            {
                _requests.Add($"{r.HttpMethod} {path} {body}".TrimEnd());
                string auth = r.Headers["Authorization"] ?? "";
                if (!auth.StartsWith("token=", StringComparison.Ordinal))
                    return (401, "{\"title\":\"Unauthorized\",\"description\":\"Please provide a valid authentication token.\"}");
                if (auth != "token=" + AdminToken)
                    return (403, "{\"title\":\"Forbidden\",\"description\":\"Access to this resource is denied.\"}");
                if (path == "/exhibitor/exhibitor/v1/cluster/status" && r.HttpMethod == "GET") return (200, ExhibitorStatus());
                var request = body.Length == 0 ? new JObject() : JObject.Parse(body);
                return (r.HttpMethod, path.StartsWith(Api, StringComparison.Ordinal) ? path.Substring(Api.Length) : null) switch
                {
                    ("POST", "create") => Create((string)request["label"]),
                    ("GET", "list") => List(),
                    ("POST", "restore") => Restore((string)request["id"]),
                    ("DELETE", "delete") => Delete((string)request["id"]),
                    _ => (404, "{\"errors\":[\"not found\"]}"),
                };
            }
        }

        private static (int, string) Errors(int code, string message) => (code, new JObject { ["errors"] = new JArray(message) }.ToString());

        private (int, string) Create(string label)
        {
            if (label == null || !Regex.IsMatch(label, "^[A-Za-z0-9_.-]{3,25}\\z") || label.StartsWith("..", StringComparison.Ordinal))
                return Errors(400, $"Could not backup {label}: invalid label");
            if (_backups.Any(b => b.Running || b.Restores.Any(x => x.Running)))
                return Errors(500, $"Could not backup {label}: backup label={label} failed: backup/restore is currently busy: lock is already held");
            var op = new Op { Id = label + "-" + Guid.NewGuid(), Label = label, Status = "STATUS_BACKING_UP", Fails = label == FailingLabel };
            _backups.Add(op);
            return (200, new JObject { ["backup_info"] = Info(op, withRestores: false) }.ToString());
        }

        private (int, string) List()
        {
            foreach (var op in _backups.Concat(_backups.SelectMany(b => b.Restores)).Where(o => o.Running)) Advance(op);
            if (_backups.Count == 0) return (200, "{}");
            return (200, new JObject { ["backup_info"] = new JArray(_backups.Select(b => Info(b, withRestores: true))) }.ToString());
        }

        private void Advance(Op op)
        {
            op.Lists++;
            string running = op.Status;
            if (op.Lists < ListsToFinish) { op.ComponentState = running; return; }
            if (op.Fails)
            {
                op.Status = op.ComponentState = "STATUS_ERROR";
                op.ComponentError = running == "STATUS_RESTORING" ? "restoring marathon state failed: znode /marathon is locked" : "backing up marathon state failed: leader not found";
                return;
            }
            op.Status = op.ComponentState = "STATUS_READY";
        }

        private (int, string) Restore(string id)
        {
            var backup = _backups.FirstOrDefault(b => b.Id == id);
            if (backup == null) return Errors(400, $"Could not restore {id}: no backup with id={id}");
            if (_backups.Any(b => b.Running || b.Restores.Any(x => x.Running)))
                return Errors(500, $"Could not restore {id}: restore id={id} failed: backup/restore is currently busy: lock is already held");
            var op = new Op { Id = "restore-" + Guid.NewGuid(), Status = "STATUS_RESTORING", Fails = backup.Label == FailingRestoreLabel };
            backup.Restores.Add(op);
            return (200, new JObject { ["backup_info"] = Info(op, withRestores: false) }.ToString());
        }

        private (int, string) Delete(string id)
        {
            var backup = _backups.FirstOrDefault(b => b.Id == id);
            if (backup == null) return Errors(400, $"Could not delete {id}: {id} is not the id of a backup");
            _backups.Remove(backup);
            return (200, "{}");
        }

        private static JObject Info(Op op, bool withRestores)
        {
            var component = new JObject { ["status"] = op.ComponentState };
            if (op.ComponentError != null) component["errors"] = new JArray(op.ComponentError);
            var j = new JObject { ["id"] = op.Id, ["status"] = op.Status, ["component_status"] = new JObject { [Component] = component } };
            if (withRestores) j["restores"] = new JArray(op.Restores.Select(r => Info(r, withRestores: false)));
            return j;
        }

        private string ExhibitorStatus()
        {
            var servers = new JArray();
            for (int i = 1; i <= 3; i++)
            {
                bool serving = !(Exhibitor == ExhibitorView.NotServing && i == 3);
                servers.Add(new JObject
                {
                    ["code"] = serving ? 3 : 2,
                    ["description"] = serving ? "serving" : "not serving",
                    ["hostname"] = "10.0.0." + i,
                    ["isLeader"] = i == 2 || (Exhibitor == ExhibitorView.TwoLeaders && i == 1),
                });
            }
            return servers.ToString();
        }

        private (int, string) Control(string method, string path, string body)
        {
            if (method == "GET" && path == "/fake/requests") return (200, new JArray(Requests).ToString());
            if (method == "PUT" && path == "/fake/exhibitor" && Enum.TryParse<ExhibitorView>(body.Trim(), true, out var view))
            {
                Exhibitor = view;
                return (200, "{}");
            }
            return (404, "{}");
        }

        public void Dispose() => _listener.Close();
    }
}
