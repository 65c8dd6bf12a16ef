import type Docker from 'dockerode';

/** The fields berth reads of the Engine API's Swarm objects (dockerode leaves them untyped). */
export interface SwarmService {
  ID: string;
  Version: { Index: number };
  CreatedAt?: string;
  Spec: Docker.ServiceSpec & { Name: string; Labels?: Record<string, string> };
}

export type TaskState =
  | 'new' | 'allocated' | 'pending' | 'assigned' | 'accepted' | 'preparing' | 'ready' | 'starting'
  | 'running' | 'complete' | 'shutdown' | 'failed' | 'rejected' | 'remove' | 'orphaned';

export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  DesiredState: string;
  CreatedAt?: string;
  Status: {
    State: TaskState;
    Timestamp?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
    PortStatus?: { Ports?: { Protocol?: string; TargetPort?: number; PublishedPort?: number; PublishMode?: string }[] };
  };
}

export interface SwarmNode {
  ID: string;
  Description?: { Hostname?: string; Resources?: { NanoCPUs?: number } };
  Spec?: { Labels?: Record<string, string>; Availability?: string };
  Status?: { State?: string; Addr?: string };
}

/** Task states after which the task never runs again. */
export const ENDED: ReadonlySet<TaskState> = new Set(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);
