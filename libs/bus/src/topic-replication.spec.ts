import { replicationFor } from './topic-admin';

describe('replication of new topics by the size of the cluster', () => {
  it('keeps three copies, two of them in sync, on a cluster of three brokers or more', () => {
    expect(replicationFor(3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(replicationFor(5)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it('keeps a copy on each broker of a smaller cluster, one in sync', () => {
    expect(replicationFor(2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(replicationFor(1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
  });

  it('never asks for fewer than one copy', () => {
    expect(replicationFor(0)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
  });
});
