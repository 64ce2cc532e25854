using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using ClusterDR.Transport;

namespace ClusterDR.Backups
{
    /// <summary>
    /// One read of a payload feeding several consumers at once: the members' snapshot copies of a restore, which run
    /// as lanes of a plan. Each consumer reads its own bounded pipe (memory stays flat); the archive is read, decompressed
    /// and hashed once, on a thread of its own, from the moment the last consumer joined. A consumer sees the end of
    /// its stream only once the payload proved to match the manifest, so no copy is complete before the hash is.
    /// When a consumer fails, or the read does, every pipe breaks: no consumer waits for data that will never come.
    /// </summary>
    internal sealed class PayloadFanOut
    {
        private readonly Stores.BackupLocation _archive;
        private readonly string _payload;
        private readonly int _consumers;
        private readonly List<StreamPipe> _pipes = new List<StreamPipe>();
        private readonly ManualResetEventSlim _read = new ManualResetEventSlim();
        private bool _started;
        /// <summary>The read's own failure (a damaged archive, an unreachable store): the cause every consumer reports.</summary>
        private Exception _readFailure;
        /// <summary>Why a consumer failed, for the others: once set, no pipe carries data any more.</summary>
        private string _brokenBy;

        public PayloadFanOut(Stores.BackupLocation archive, string payloadName, int consumers)
        {
            _archive = archive;
            _payload = payloadName;
            _consumers = consumers;
        }

        /// <summary>Runs <paramref name="consume"/> on this consumer's copy of the payload; the read's own failure comes first.</summary>
        public void Consume(Action<Stream> consume)
        {
            var pipe = new StreamPipe(32); // 32 chunks of 64 KiB: below the large-object heap, so memory stays flat
            lock (_pipes)
            {
                if (_pipes.Count >= _consumers) throw new InvalidOperationException("More consumers than the fan-out was made for.");
                _pipes.Add(pipe);
                if (_brokenBy != null) pipe.Fail(_brokenBy);
                else if (_pipes.Count == _consumers)
                {
                    _started = true;
                    new Thread(Read) { IsBackground = true, Name = "ClusterDR fan-out " + _payload }.Start();
                }
            }
            try { consume(pipe.Reader); }
            catch (Exception ex)
            {
                Break(ex);
                if (ReadFailed()) throw Surface();
                throw;
            }
            // The end of stream comes only after the hash matched; the wait makes sure of the read's outcome.
            if (ReadFailed()) throw Surface();
        }

        private bool ReadFailed()
        {
            lock (_pipes) if (!_started) return false;
            _read.Wait(); // bounded: once a pipe broke, the read stops at its next write
            return _readFailure != null;
        }

        private Exception Surface() =>
            _readFailure is ClusterDrException cde
                ? new ClusterDrException(cde.ErrorId, cde.Kind, cde.Message, cde.Target, cde, cde.SurfaceAsIs, cde.RecommendedAction)
                : new IOException(_readFailure.Message, _readFailure);

        private void Read()
        {
            try
            {
                BackupArchiveReaderExtensions.ReadPayload(_archive, _payload, payload =>
                {
                    var buf = new byte[64 * 1024];
                    int n;
                    while ((n = payload.Read(buf, 0, buf.Length)) > 0)
                        foreach (var p in _pipes) p.Writer.Write(buf, 0, n);
                });
                foreach (var p in _pipes) p.CompleteWriting();
            }
            catch (Exception ex)
            {
                // A write into a pipe a consumer broke is that consumer's failure, not the read's.
                lock (_pipes) if (_brokenBy == null) _readFailure = ex;
                foreach (var p in _pipes) p.Fail(ex.Message);
            }
            finally { _read.Set(); }
        }

        /// <summary>A consumer failed: the read stops at its next write, every other consumer at its next read.</summary>
        private void Break(Exception why)
        {
            lock (_pipes)
            {
                if (_readFailure != null || _brokenBy != null) return; // an echo of a failure already spread
                _brokenBy = "the copy to another member failed: " + why.Message;
                foreach (var p in _pipes) p.Fail(_brokenBy);
            }
        }
    }
}
