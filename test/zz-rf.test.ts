import { debianRootfsTar } from './support/debian-rootfs.ts';
it('rootfs', async function () { this.timeout(600000); console.log(await debianRootfsTar()); });
