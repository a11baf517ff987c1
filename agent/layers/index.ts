/** Filesystem and block-device facts of each layer (systeminformation), for status. */
export { layerFactsOf, type LayerFacts, type LayerName } from './layer-facts.ts';
export { layersService, type LayersStatus } from './layers-service.ts';
