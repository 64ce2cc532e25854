namespace ClusterDR.Deis
{
    /// <summary>Bytes and items restored for one part of the store (buckets, volume, database, re-save).</summary>
    public sealed class DeisRestorePart
    {
        public string Name { get; set; }
        public int Items { get; set; }
        public long Bytes { get; set; }
        public override string ToString() => $"{Name}: {Items} item(s), {Bytes} bytes";
    }
}
