using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using ClusterDR.Safety;
using ClusterDR.Swarm;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Swarm
{
    /// <summary>
    /// Classic Swarm (swarm manage --replication) cannot run here: a fake serves its /info shape
    /// (SystemStatus rows Role/Primary/Strategy/Filters/Nodes). A manager is "stopped" while a file
    /// named after its port exists (the stop command creates it); a replica takes over 0.3 s after.
    /// </summary>
    internal sealed class FakeClassicSwarm : IDisposable
    {
        private readonly List<HttpListener> _listeners = new List<HttpListener>();
        private readonly object _gate = new object();
        private DateTime? _primaryDownSince;
        public string Dir { get; } = TestEnv.TempDir("classic-swarm");
        public List<string> Endpoints { get; } = new List<string>();
        public string Primary { get; private set; }

        public FakeClassicSwarm(int managers)
        {
            for (int i = 0; i < managers; i++)
            {
                string me = null!;
                var (l, uri) = LoopbackHttp.Serve(req => Answer(me));
                me = $"127.0.0.1:{uri.Port}";
                _listeners.Add(l);
                Endpoints.Add(me);
            }
            Primary = Endpoints[0];
        }

        public string StopCommand(string endpoint) => "touch " + Down(endpoint);
        public string StartCommand(string endpoint) => "rm -f " + Down(endpoint);
        private string Down(string endpoint) => Path.Combine(Dir, endpoint.Replace(':', '_') + ".down");
        private bool IsDown(string e) => File.Exists(Down(e));

        private (int, string) Answer(string me)
        {
            lock (_gate)
            {
                if (IsDown(Primary))
                {
                    _primaryDownSince ??= DateTime.UtcNow;
                    var next = Endpoints.FirstOrDefault(e => !IsDown(e));
                    if (next != null && DateTime.UtcNow - _primaryDownSince > TimeSpan.FromMilliseconds(300)) { Primary = next; _primaryDownSince = null; }
                }
                if (IsDown(me)) return (503, "{\"message\":\"manager stopped\"}");
                var rows = new List<string[]> { new[] { "Role", me == Primary ? "primary" : "replica" } };
                if (me != Primary) rows.Add(new[] { "Primary", Primary });
                rows.Add(new[] { "Strategy", "spread" });
                rows.Add(new[] { "Filters", "health, port, containerslots, dependency, affinity, constraint, whitelist" });
                rows.Add(new[] { "Nodes", "2" });
                rows.Add(new[] { " node-1", "10.0.0.11:2375" });
                rows.Add(new[] { "  └ Status", "Healthy" });
                return (200, Newtonsoft.Json.JsonConvert.SerializeObject(new { ID = "", ServerVersion = "swarm/1.2.9", SystemStatus = rows }));
            }
        }

        public void Dispose()
        {
            foreach (var l in _listeners) { try { l.Stop(); l.Close(); } catch { } }
            try { Directory.Delete(Dir, true); } catch { }
        }
    }

    public sealed class SwarmClassicTests
    {
        [Fact]
        public void ReadsRolePrimaryNodesStrategyAndFiltersFromEachManager()
        {
            using var fake = new FakeClassicSwarm(3);
            var managers = SwarmClassic.Read(fake.Endpoints.Concat(new[] { "127.0.0.1:1" }), TimeSpan.FromSeconds(2), default);
            Assert.Equal("Primary", managers[0].Role);
            Assert.Equal(fake.Endpoints[0], managers[0].Primary);
            Assert.Equal("Replica", managers[1].Role);
            Assert.Equal(fake.Endpoints[0], managers[2].Primary);
            Assert.Equal(2, managers[1].Nodes);
            Assert.Equal("spread", managers[1].Strategy);
            Assert.Contains("constraint", managers[2].Filters);
            Assert.False(managers[3].Reachable);
            Assert.NotNull(managers[3].Problem);
        }

        [Fact]
        public void FailoverDrillTimesTheTakeoverAndRestartsTheOldPrimary()
        {
            using var fake = new FakeClassicSwarm(3);
            var whatIf = new RecordingContext(Decision.WhatIf);
            var req = new SwarmClassicFailoverRequest
            {
                Endpoints = fake.Endpoints, StopCommand = fake.StopCommand(fake.Endpoints[0]), StartCommand = fake.StartCommand(fake.Endpoints[0]),
                ShellFor = _ => new LocalShell(), Timeout = TimeSpan.FromSeconds(20),
                // The fake answers from the thread pool: under a loaded CI run a reply once took longer than the 3 s default.
                RequestTimeout = TimeSpan.FromSeconds(15),
            };
            Assert.Null(SwarmClassic.TestFailover(req, whatIf));
            Assert.Equal("Primary", SwarmClassic.Read(fake.Endpoints.Take(1), TimeSpan.FromSeconds(10), default)[0].Role);

            var result = SwarmClassic.TestFailover(req, new RecordingContext());
            Assert.Equal(fake.Endpoints[0], result.OldPrimary);
            Assert.Equal(fake.Endpoints[1], result.NewPrimary);
            Assert.InRange(result.TakeoverTime.TotalSeconds, 0.2, 20);
            Assert.Equal("Replica", result.OldPrimaryRoleAfter);
            Assert.Equal(fake.Endpoints[1], result.Managers[0].Primary);
        }

        [Fact]
        public void FailoverIsRefusedWhenNoReplicaCouldTakeOver()
        {
            using var fake = new FakeClassicSwarm(2);
            Shell.Run("/bin/sh", "-c", fake.StopCommand(fake.Endpoints[1]));
            var req = new SwarmClassicFailoverRequest
            {
                Endpoints = fake.Endpoints, StopCommand = fake.StopCommand(fake.Endpoints[0]), StartCommand = fake.StartCommand(fake.Endpoints[0]),
                ShellFor = _ => new LocalShell(),
            };
            var ex = Assert.Throws<ClusterDrException>(() => SwarmClassic.TestFailover(req, new RecordingContext()));
            Assert.Equal(ErrorIds.NoFailoverReplica, ex.ErrorId);
            Assert.Equal("Primary", SwarmClassic.Read(fake.Endpoints.Take(1), TimeSpan.FromSeconds(10), default)[0].Role);
        }
    }
}
